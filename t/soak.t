# A bad day, in short under make check and at length under make soak
# (ASUD_SOAK=1): kill -9 restarts with builds queued and running lose
# nothing; many connections at once are all answered; clients that
# trickle their request are dropped while others are served; a burst of
# POSTs is answered as intended (202 or 529, never a hang or a crash).
use strict;
use warnings;
use Test::More;
use IO::Poll qw(POLLIN POLLHUP POLLERR);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use AsudTest;

my $long = $ENV{ASUD_SOAK} ? 1 : 0;
my %n = $long
    ? (restarts => 100, conns => 10000, slow => 200, flood => 1000)
    : (restarts => 10, conns => 300, slow => 20, flood => 200);
my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');
my $seed = $ENV{ASUD_SOAK_SEED} // time;
srand($seed);
diag("soak: " . ($long ? 'long' : 'short') . " run, seed $seed");

# The descendants of the daemon that are still running (by parent links).
sub children_of {
	my ($pid) = @_;
	my %kids;
	for my $st (glob('/proc/[0-9]*/stat')) {
		open(my $fh, '<', $st) or next;
		my $s = <$fh> // next;
		push @{ $kids{$2} }, $1 if $s =~ /^(\d+) \(.*\) \S (\d+) /s;
	}
	my (@all, @todo) = ((), $pid);
	while (defined(my $p = shift @todo)) {
		for my $k (@{ $kids{$p} // [] }) {
			push @all, $k;
			push @todo, $k;
		}
	}
	return @all;
}

# Reads every socket to its end (poll, not select: there may be more
# than 1024); returns the first status code of each answer, in order.
sub read_all {
	my ($socks, $timeout) = @_;
	my $poll = IO::Poll->new;
	my %buf;
	$poll->mask($_ => POLLIN) for @$socks;
	my $deadline = time + $timeout;
	while ($poll->handles && time < $deadline) {
		$poll->poll(1);
		for my $s ($poll->handles(POLLIN | POLLHUP | POLLERR)) {
			my $n = sysread($s, my $b, 65536);
			if ($n) {
				$buf{$s} .= $b;
				next;
			}
			$poll->remove($s);
		}
	}
	return map { (($buf{$_} // '') =~ m{^HTTP/1\.1 (\d{3}) })[0]
	    // 'none' } @$socks;
}

my $t = AsudTest->new(env => { STANDIN_TIME_SCALE => 0.3 },
    conf => { build_jobs => 2, max_pending_jobs => 100,
    rate_limit_builds => 0, request_timeout => '3s' });

# 1. kill -9 at a random moment of each round, with builds queued and
# running; every accepted build finishes after the last restart.
my %accepted;
my ($refused, $t0) = (0, time);
for my $round (1 .. $n{restarts}) {
	$t->start;
	for my $i (1 .. 3) {
		my $r = $t->post('/api/v1/build', { %base,
		    packages => ['test1'], rootfs_size_mb => 10
		    + ($round * 3 + $i) % 1000 });
		if ($r->{status} == 202 || $r->{status} == 200) {
			$accepted{$r->{json}{request_hash}} = $round;
		} else {
			$refused++;
			diag("round $round: POST answered $r->{status}")
			    if $r->{status} != 529;
		}
	}
	sleep(rand(0.8));
	$t->kill9;
}
my $killed_in = time - $t0;
$t->{env}{STANDIN_TIME_SCALE} = 0;
$t->start;
my ($done, @lost) = (0);
for my $h (sort keys %accepted) {
	my $r = $t->wait_build($h, timeout => 300);
	if ($r->{status} == 200) {
		$done++;
	} else {
		push @lost, "$h ($r->{status})";
	}
}
is(scalar @lost, 0, "every accepted build of $n{restarts} kill -9 "
    . "rounds finished (" . scalar(keys %accepted) . " builds)")
    or diag("not finished: @lost");
ok(scalar(keys %accepted) >= $n{restarts}, 'the rounds were accepted');
ok($t->alive, 'the daemon answers after the restarts');
diag(sprintf('soak: %d kill -9 rounds in %.1f s, %d builds accepted, '
    . '%d refused as overloaded, all finished in %.1f s after the last '
    . 'start', $n{restarts}, $killed_in, scalar(keys %accepted), $refused,
    time - $t0 - $killed_in));

# 2. Many connections at once, opened idle, then each asks something.
my $rss0 = AsudTest::rss_kb($t->pid);
my @socks;
for my $i (1 .. $n{conns}) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $t->port, Proto => 'tcp');
	last unless $s;
	push @socks, $s;
}
is(scalar @socks, $n{conns}, "$n{conns} connections opened");
ok($t->alive, 'a new client is answered while they are open');
my ($h1) = sort keys %accepted;
my $req = "GET /api/v1/build/$h1 HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n\r\n";
for my $s (@socks) {
	syswrite($s, $req);
}
my $c0 = time;
my $answered = grep { $_ eq '200' } read_all(\@socks, 120);
my $rss1 = AsudTest::rss_kb($t->pid);
is($answered, $n{conns}, "all $n{conns} connections got their 200");
diag(sprintf('soak: %d connections answered in %.1f s, RSS %d kB -> %d kB',
    $n{conns}, time - $c0, $rss0, $rss1));
close($_) for @socks;
@socks = ();

# 3. Clients that trickle a byte every half second are dropped at
# request_timeout, while others are answered.
my @slow;
for my $i (1 .. $n{slow}) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $t->port, Proto => 'tcp') or last;
	$s->blocking(0);
	push @slow, $s;
}
my $trickle = "GET /api/v1/stats HTTP/1.1\r\nX-Slow: " . ('a' x 200);
my ($open, $served, $pos) = (scalar @slow, 0, 0);
my %closed;
my $deadline = time + 60;
while (keys(%closed) < @slow && time < $deadline) {
	my $byte = substr($trickle, $pos++ % length $trickle, 1);
	for my $s (@slow) {
		next if $closed{$s};
		my $w = syswrite($s, $byte);
		my $r = sysread($s, my $buf, 4096);
		$closed{$s} = 1 if (defined $r && $r == 0)
		    || (!defined $w && !$!{EAGAIN});
	}
	$served++ if $t->alive;
	sleep 0.5;
}
is(scalar keys %closed, scalar @slow,
    "all $n{slow} trickling clients were dropped");
ok($served > 0, "others were answered meanwhile ($served)");
@slow = ();

# 4. A burst of POSTs sent at once: each gets 202, 200 or 529.
my @burst;
for my $i (1 .. $n{flood}) {
	my $body = qq({"version":"1.2.3","target":"testtarget/testsubtarget",)
	    . qq("profile":"testprofile","packages":["test2"],)
	    . qq("rootfs_size_mb":) . (1 + $i % 1024) . qq(});
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $t->port, Proto => 'tcp') or last;
	syswrite($s, "POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
	    . "Content-Type: application/json\r\nConnection: close\r\n"
	    . "Content-Length: " . length($body) . "\r\n\r\n$body");
	push @burst, $s;
}
my %codes;
$codes{$_}++ for read_all(\@burst, 120);
close($_) for @burst;
my $bad = 0;
$bad += $codes{$_} for grep { !/^(?:200|202|529)$/ } keys %codes;
is($bad, 0, "every POST of the burst of $n{flood} was answered as intended")
    or diag(join(', ', map { "$_: $codes{$_}" } sort keys %codes));
diag('soak: burst answers: '
    . join(', ', map { "$_: $codes{$_}" } sort keys %codes));
ok($t->alive, 'the daemon answers after the burst');
my @kids = children_of($t->pid);
is($t->stop, 0, 'clean stop after the soak');
my @left = grep { kill(0, $_) } @kids;
is(scalar @left, 0, 'no build process outlived the daemon')
    or diag("left: @left");
$t->check_log_clean;

done_testing();
