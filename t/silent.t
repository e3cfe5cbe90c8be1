# A build that prints nothing for longer than the connection timeout (120
# s) keeps its followers: a /log follower and an /events follower both stay
# to the end and get the whole log and the final state; the event stream
# carries keep-alive comments meanwhile.
use strict;
use warnings;
use Test::More;
use IO::Select;
use Time::HiRes qw(time);
use AsudTest;

my $silence = 130;

# Splits a raw answer into its head and its de-chunked body; $end tells
# whether the last chunk came.
sub dechunk {
	my ($raw) = @_;
	my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
	my ($body, $end) = ('', 0);
	$rest //= '';
	while ($rest =~ s/^([0-9a-fA-F]+)\r\n//) {
		my $n = hex $1;
		if ($n == 0) {
			$end = 1;
			last;
		}
		last if length $rest < $n + 2;
		$body .= substr($rest, 0, $n);
		$rest = substr($rest, $n + 2);
	}
	return ($head // '', $body, $end);
}

my $t = AsudTest->new(conf => { events_keepalive => '2s' },
    env => { STANDIN_MISBEHAVE => "silence=$silence" }, timeout => 60);
$t->start;
my $p = $t->post('/api/v1/build', { version => '1.2.3',
    target => 'testtarget/testsubtarget', profile => 'testprofile',
    packages => ['test1'] });
is($p->{status}, 202, 'the silent build is accepted');
my $h = $p->{json}{request_hash};
my %c = (
	log => $t->raw_send("GET /api/v1/build/$h/log HTTP/1.1\r\n"
	    . "Host: x\r\n\r\n"),
	events => $t->raw_send("GET /api/v1/build/$h/events HTTP/1.1\r\n"
	    . "Host: x\r\n\r\n"),
);
my %raw = (log => '', events => '');
my %closed;
my %by = map { (fileno($c{$_}) => $_) } keys %c;
my $sel = IO::Select->new(values %c);
my $deadline = time + $silence + 120;
while ($sel->count && time < $deadline) {
	for my $s ($sel->can_read(1)) {
		my $k = $by{fileno($s)};
		my $n = sysread($s, $raw{$k}, 65536, length $raw{$k});
		next if $n;
		$closed{$k} = 1;
		$sel->remove($s);
	}
}
is($t->get("/api/v1/build/$h")->{status}, 200, 'the build is done');

my ($lhead, $log, $lend) = dechunk($raw{log});
like($lhead, qr{^HTTP/1\.1 200 }, 'the log follower was answered');
ok($lend, "the log follower stayed to the end, past $silence s of silence");
ok($log eq $t->get("/api/v1/build/$h/log")->{content},
    'it got the whole log (' . length($log) . ' bytes)');
ok($closed{log}, 'and its connection closed after it');

my ($ehead, $ev, $eend) = dechunk($raw{events});
ok($eend, 'the event stream stayed to the end');
my @events = map { /^event: (\w+)\ndata: (.*)$/s ? [$1, $2] : () }
    split /\n\n/, $ev;
my @states = map { $AsudTest::JSON->decode($_->[1]) }
    grep { $_->[0] eq 'state' } @events;
is($states[-1]{status}, 200, 'it got the final state');
my $alive = grep { $_ eq ': keep-alive' } split /\n\n/, $ev;
ok($alive >= $silence / 2 / 3, "keep-alive comments came ($alive)");
ok((grep { $_->[1] =~ /^Building images/ } grep { $_->[0] eq 'log' }
    @events), 'and the log lines after the silence');
ok($closed{events}, 'its connection closed after it');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
