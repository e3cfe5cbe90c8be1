# Long-polling: a status poll with ?wait=N (or "Prefer: wait=N") is held
# until the build's state, phase or queue position changes, or N seconds
# pass, then answered exactly as a plain poll; a client that goes away is
# forgotten at once; without wait nothing changes.
use strict;
use warnings;
use Test::More;
use IO::Select;
use Time::HiRes qw(sleep time);
use AsudTest;

my $t = AsudTest->new(env => { STANDIN_TIME_SCALE => 2 },
    conf => { build_jobs => 1, max_wait => 30 });
$t->start(args => ['-v']);
my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');

# The number of held polls, as /metrics says.
sub waiters {
	my ($n) = $t->get('/metrics')->{content} =~ /^asud_waiters (\d+)$/m;
	return $n // 0;
}

my $a = $t->post('/api/v1/build', { %base, packages => ['test1'] });
my $b = $t->post('/api/v1/build', { %base, packages => ['test2'] });
my ($ha, $hb) = ($a->{json}{request_hash}, $b->{json}{request_hash});
is($a->{status}, 202, 'first build accepted');
is($b->{status}, 202, 'second build accepted');

# A waiter is answered when the phase changes (not by its timeout: the
# phase it answers with is not the one before).
my $before = $t->get("/api/v1/build/$ha")->{json};
my $w = $t->get("/api/v1/build/$ha?wait=25");
is($w->{status}, 202, 'a held poll of a running build answers 202');
isnt(($w->{json}{imagebuilder_status} // '') . ($w->{json}{detail} // ''),
    ($before->{imagebuilder_status} // '') . ($before->{detail} // ''),
    'with the new phase');
ok(defined $w->{headers}{'x-imagebuilder-status'}
    && defined $w->{headers}{'x-queue-position'},
    'the two headers, as a plain poll');

# A waiter of a queued build is answered on timeout when nothing changes.
my $t0 = time;
my $q = $t->get("/api/v1/build/$hb?wait=1");
my $took = time - $t0;
is($q->{status}, 202, 'a held poll of a queued build');
if ($q->{json}{detail} eq 'queued') {
	ok($took >= 0.9, 'held for the wait when nothing changed');
} else {
	pass('the queue moved meanwhile, which also ends a wait');
}

# "Prefer: wait=N" works like ?wait=N; the end of the build wakes it.
my $end = $t->get("/api/v1/build/$ha", { Prefer => 'wait=25' });
my $deadline = time + 60;
while ($end->{status} == 202 && time < $deadline) {
	$end = $t->get("/api/v1/build/$ha", { Prefer => 'wait=25' });
}
is($end->{status}, 200, 'held polls follow the build to its end');
is($end->{json}{detail}, 'done', 'and answer the 200 as a plain poll');

# A finished build is answered at once, wait or not: no waiter is held
# for it while its answer is on the way.
my $fin = $t->raw_send("GET /api/v1/build/$ha?wait=25 HTTP/1.1\r\n"
    . "Host: x\r\nConnection: close\r\n\r\n");
my $held = 0;
$deadline = time + 60;
until (IO::Select->new($fin)->can_read(0.05) || time > $deadline) {
	$held ||= waiters() > 0;
}
my $fres = $t->raw_read($fin, 30);
is($fres && $fres->{status}, 200, 'a finished build answers at once');
ok(!$held, 'without holding a waiter');
is($t->get('/api/v1/build/' . ('0' x 64) . '?wait=5')->{status}, 404,
    'an unknown hash answers 404 at once');

# A client that goes away is forgotten. Its poll is of a third build,
# queued behind the second one, which has just started: nothing about
# the third changes until the second ends, so nothing answers the poll
# before its client leaves (the second's phases would).
my $c = $t->post('/api/v1/build', { %base, packages => ['zzz'] });
is($c->{status}, 202, 'a third build waits');
my $hc = $c->{json}{request_hash};
my $s = $t->raw_send("GET /api/v1/build/$hc?wait=25 HTTP/1.1\r\nHost: x\r\n\r\n");
$deadline = time + 30;
sleep 0.05 while time < $deadline && waiters() < 1;
is(waiters(), 1, 'its poll is held');
close($s);
$deadline = time + 30;
sleep 0.1 while time < $deadline && $t->log_text !~ /waiter of \S+ gone/;
like($t->log_text, qr/waiter of \S+ gone/, 'a departed waiter is dropped');

is($t->wait_build($hb, timeout => 90)->{status}, 200, 'the second build ends');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
