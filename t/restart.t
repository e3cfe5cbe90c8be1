# Nothing accepted is lost: kill -9 during a build and during a queue of
# five, SIGTERM with work queued, then restarts that finish everything.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use AsudTest;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');

# Waits until the hash reports a running build (detail "started"), in
# the given phase when one is named.
sub wait_started {
	my ($t, $hash, $phase) = @_;
	my $deadline = time + 30;
	while (time < $deadline) {
		my $r = $t->get("/api/v1/build/$hash");
		return 1 if $r->{json} && ($r->{json}{detail} // '') eq 'started'
		    && (!$phase || $r->{json}{imagebuilder_status} eq $phase);
		sleep 0.05;
	}
	return 0;
}

my $t = AsudTest->new(env => { STANDIN_TIME_SCALE => 3 },
    conf => { build_jobs => 1 });

# 1. kill -9 during make image: the ImageBuilder's own processes outlive
# the daemon and hold the ImageBuilder; the restart must end them.
$t->start;
my $p = $t->post('/api/v1/build', { %base, packages => ['test1'] });
is($p->{status}, 202, 'accepted');
my $one = $p->{json}{request_hash};
ok(wait_started($t, $one, 'building_image'), 'make image is running');
$t->kill9;
$t->{env}{STANDIN_TIME_SCALE} = 0;
$t->start;
my $r = $t->wait_build($one);
is($r->{status}, 200, 'the interrupted build ran again after the restart');
is($r->{json}{manifest}{test1}, '1.0', 'and produced its result');
like($t->log_text, qr/killed the leftover build process group/,
    'the crashed daemon\'s build processes were ended');
$t->stop;

# 2. kill -9 during a queue of five.
$t->{env}{STANDIN_TIME_SCALE} = 1;
$t->start;
my @hashes;
for my $i (1 .. 5) {
	my $res = $t->post('/api/v1/build', { %base, packages => ['test2'],
	    rootfs_size_mb => 10 + $i });
	is($res->{status}, 202, "queued build $i");
	push @hashes, $res->{json}{request_hash};
}
ok(wait_started($t, $hashes[0]), 'the first of five is running');
my $q = $t->get("/api/v1/build/$hashes[4]");
is($q->{json}{detail}, 'queued', 'the fifth is queued');
ok($q->{json}{queue_position} >= 1, 'with a position behind others');
$t->kill9;
$t->{env}{STANDIN_TIME_SCALE} = 0;
$t->start;
for my $i (0 .. 4) {
	my $res = $t->wait_build($hashes[$i]);
	is($res->{status}, 200,
	    "build " . ($i + 1) . " of five finished after the restart")
	    or diag(($res->{json}{detail} // '') . "\n"
	    . ($res->{json}{stderr} // ''));
	is($res->{json}{request_hash}, $hashes[$i], 'with its own hash');
}
$t->stop;

# 3. SIGTERM with work queued: the queue survives a clean stop too.
$t->{env}{STANDIN_TIME_SCALE} = 2;
$t->start;
my $a = $t->post('/api/v1/build', { %base, packages => ['aaa'] });
my $b = $t->post('/api/v1/build', { %base, packages => ['zzz'] });
is($b->{status}, 202, 'queued before the stop');
is($t->stop, 0, 'SIGTERM stops cleanly while building');
$t->{env}{STANDIN_TIME_SCALE} = 0;
$t->start;
is($t->wait_build($a->{json}{request_hash})->{status}, 200,
    'the running build ran again');
is($t->wait_build($b->{json}{request_hash})->{status}, 200,
    'the queued build ran');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;

done_testing();
