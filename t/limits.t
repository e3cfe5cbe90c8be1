# Limits per client address: rate_limit_builds new builds a minute (429
# with Retry-After; cache hits and refused requests are not counted),
# max_waiters_per_client long polls (over it: a plain answer at once),
# max_followers_per_client log followers (over it: 429), each freed when
# its client leaves, and trusted_proxies (X-Forwarded-For believed from
# them only; IPv6 counted per /64). /metrics counts refusals by reason.
use strict;
use warnings;
use Test::More;
use IO::Select;
use Time::HiRes qw(sleep time);
use AsudTest;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');

# Waits for a condition (a safety deadline only; no speed is asserted).
sub eventually {
	my ($cond) = @_;
	my $deadline = time + 60;
	until ($cond->()) {
		return 0 if time > $deadline;
		sleep 0.05;
	}
	return 1;
}

# A value of /metrics ("asud_waiters", "asud_refused_total{...}").
sub metric {
	my ($t, $name) = @_;
	my ($v) = $t->get('/metrics')->{content}
	    =~ /^\Q$name\E (\d+)$/m;
	return $v // -1;
}

sub refused {
	my ($t, $why) = @_;
	return metric($t, "asud_refused_total{reason=\"$why\"}");
}

# Reads a response head from a raw socket, leaving the body (a stream).
sub read_head {
	my ($s) = @_;
	my ($buf, $sel, $deadline) = ('', IO::Select->new($s), time + 60);
	while ($buf !~ /\r\n\r\n/ && time < $deadline) {
		last unless $sel->can_read(1) || time < $deadline;
		my $n = sysread($s, $buf, 4096, length $buf);
		last unless $n;
	}
	my ($code) = $buf =~ m{^HTTP/1\.[01] (\d{3})};
	my %h = map { lc($1) => $2 } $buf =~ /^([\w-]+):\s*(.*?)\r$/mg;
	return ($code // 0, \%h, $buf);
}

# The settings are checked at start, with FILE:LINE.
{
	my $t = AsudTest->new(no_generate => 1);
	my $file = $t->dir . '/check.conf';
	my $check = sub {
		open(my $fh, '>', $file) or die;
		print $fh "# limits\n$_[0]\n";
		close $fh;
		my $out = `${\ AsudTest::bin()} -n -c $file 2>&1`;
		return ($? >> 8, $out);
	};
	my ($rc, $out) = $check->("trusted_proxies = 127.0.0.1 10.0.0.0/8, "
	    . "::1 2001:db8::/32\nrate_limit_builds = 5\n"
	    . "max_followers_per_client = 3\nmax_waiters_per_client = 0");
	is($rc, 0, 'the limits and a list of proxies are accepted')
	    or diag($out);
	for my $bad ('300.1.1.1', '10.0.0.0/33', 'proxy.example.org',
	    '::1/129') {
		($rc, $out) = $check->("trusted_proxies = 127.0.0.1 $bad");
		is($rc, 1, "trusted_proxies '$bad' stops asud");
		like($out, qr/\Q$file\E:2: trusted_proxies: '\Q$bad\E'/,
		    'naming the file, the line and the entry');
	}
	($rc, $out) = $check->('rate_limit_builds = -1');
	is($rc, 1, 'a negative rate_limit_builds stops asud');
}

# One client (127.0.0.1) against a daemon with small limits whose builds
# stand still while $hold exists.
my $t = AsudTest->new(conf => { build_jobs => 1, rate_limit_builds => 2,
    max_waiters_per_client => 1, max_followers_per_client => 1,
    max_wait => 60 });
# In the ImageBuilder's directory: the sandbox shows the build no other.
my $hold = $t->ib_dir . '/1.2.3/testtarget/testsubtarget/.hold';
open(my $hf, '>', $hold) or die;
close $hf;
END { unlink $hold if defined $hold }
$t->{env}{STANDIN_MISBEHAVE} = "hold=$hold";
$t->start(args => ['-v']);

my $a = $t->post('/api/v1/build', { %base, packages => ['test1'] });
is($a->{status}, 202, 'rate: a first new build');
my $ha = $a->{json}{request_hash} // '';
ok(eventually(sub { ($t->get("/api/v1/build/$ha")->{json}{detail} // '')
    eq 'started' }), 'it runs (and stands still)');
is($t->post('/api/v1/build', { %base, packages => ['test1'] })->{status},
    202, 'the running build asked again: a cache hit');
is($t->post('/api/v1/build', { %base, profile => 'nosuch' })->{status},
    400, 'a request that does not validate');
is($t->post('/api/v1/build', '{"version":1}')->{status}, 422,
    'a request that does not parse');
my $b = $t->post('/api/v1/build', { %base, packages => ['test2'] });
is($b->{status}, 202, 'rate: a second new build (the others were free)');
my $hb = $b->{json}{request_hash} // '';
is($t->post('/api/v1/build', { %base, packages => ['test2'] })->{status},
    202, 'the queued build asked again: a cache hit');
my $c = $t->post('/api/v1/build', { %base, packages => ['aaa'] });
is($c->{status}, 429, 'rate: the third new build in a minute is refused');
my $ra = $c->{headers}{'retry-after'} // '';
like($ra, qr/^\d+$/, "with Retry-After ($ra)");
ok($ra =~ /^\d+$/ && $ra >= 1 && $ra <= 30,
    'of at most the 30 s until a slot frees, at least 1');
is_deeply([sort keys %{ $c->{json} // {} }], ['detail', 'status'],
    'the reference\'s {"detail", "status"}');
is($c->{json}{status}, 429, 'status 429 in the body');
like($c->{json}{detail} // '', qr/too many new build requests/,
    'a detail that says why');
is($t->post('/api/v1/build', { %base, packages => ['aaa'] },
    { 'X-Forwarded-For' => '198.51.100.1' })->{status}, 429,
    'X-Forwarded-For from a peer that is no trusted proxy is ignored');
is($t->post('/api/v1/build', { %base, packages => ['test1'] })->{status},
    202, 'cache hits are answered while the client is over its limit');
is($t->get("/api/v1/build/$hb")->{status}, 202, 'and so are polls');
is(refused($t, 'rate_limit_builds'), 2, '/metrics counts the two 429s');

# Long-poll waiters: one held; the next one is answered at once.
my $w1 = $t->raw_send("GET /api/v1/build/$ha?wait=60 HTTP/1.1\r\n"
    . "Host: x\r\nConnection: close\r\n\r\n");
ok(eventually(sub { metric($t, 'asud_waiters') == 1 }),
    'waiters: the first long poll is held');
my $w2 = $t->get("/api/v1/build/$ha?wait=60");
is($w2->{status}, 202, 'waiters: over the cap, a plain answer');
is($w2->{json}{detail}, 'started', 'as a plain poll would give');
is(metric($t, 'asud_waiters'), 1, 'without holding it');
is(refused($t, 'max_waiters_per_client'), 1, '/metrics counts it');
close($w1);
ok(eventually(sub { metric($t, 'asud_waiters') == 0 }),
    'waiters: the first client left');
my $w3 = $t->raw_send("GET /api/v1/build/$hb?wait=60 HTTP/1.1\r\n"
    . "Host: x\r\nConnection: close\r\n\r\n");
ok(eventually(sub { metric($t, 'asud_waiters') == 1 }),
    'waiters: its place is free again');
is($t->get("/api/v1/build/$hb?wait=60")->{status}, 202,
    'waiters: and taken again by one');
is(refused($t, 'max_waiters_per_client'), 2, 'the next is not held');
close($w3);
ok(eventually(sub { metric($t, 'asud_waiters') == 0 }), 'all gone');

# Log followers: one follows; the next gets 429, whichever build or stream.
my $f1 = $t->raw_send("GET /api/v1/build/$ha/log HTTP/1.1\r\nHost: x\r\n\r\n");
my ($code) = read_head($f1);
is($code, 200, 'followers: the first follows the log');
ok(eventually(sub { metric($t, 'asud_log_followers') == 1 }),
    'followers: it is counted');
my $f2 = $t->raw("GET /api/v1/build/$ha/events HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n\r\n");
is($f2 && $f2->{status}, 429, 'followers: the next gets 429');
is($f2 && $f2->{headers}{'retry-after'}, 10, 'with Retry-After: 10');
is($f2 && $f2->{json}{status}, 429, 'and the {"detail", "status"} body');
my $f3 = $t->raw("GET /api/v1/build/$hb/log HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n\r\n");
is($f3 && $f3->{status}, 429, 'followers: of another build too');
is(refused($t, 'max_followers_per_client'), 2, '/metrics counts both');
close($f1);
ok(eventually(sub { metric($t, 'asud_log_followers') == 0 }),
    'followers: the first one left');
my $f4 = $t->raw_send("GET /api/v1/build/$ha/events HTTP/1.1\r\n"
    . "Host: x\r\n\r\n");
($code) = read_head($f4);
is($code, 200, 'followers: its place is free again');
my $f5 = $t->raw("GET /api/v1/build/$ha/log HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n\r\n");
is($f5 && $f5->{status}, 429, 'followers: and taken by that one');

is($t->get("/api/v1/build/$ha")->{json}{detail}, 'started',
    'the first build stood still all along');
is($t->get("/api/v1/build/$hb")->{json}{detail}, 'queued',
    'and the second waited behind it');
unlink $hold;
is($t->wait_build($ha, timeout => 90)->{status}, 200, 'the builds go on');
ok(eventually(sub { metric($t, 'asud_log_followers') == 0 }),
    'the follower ended with its build');
close($f4);
is($t->wait_build($hb, timeout => 90)->{status}, 200, 'both of them');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;

# Behind a trusted proxy: each X-Forwarded-For client on its own.
my $p = AsudTest->new(conf => { rate_limit_builds => 2,
    trusted_proxies => '127.0.0.1' });
$p->start;
my $n = 0;
# A new build (a request hash not seen before) as client xff.
my $new = sub {
	my ($xff) = @_;
	return $p->post('/api/v1/build', { %base, packages => ['zzz'],
	    rootfs_size_mb => 100 + $n++ },
	    defined $xff ? { 'X-Forwarded-For' => $xff } : {});
};
my $x1 = $p->post('/api/v1/build', { %base, packages => ['test1'] },
    { 'X-Forwarded-For' => '192.0.2.1' });
is($x1->{status}, 202, 'proxy: client 192.0.2.1 starts a build');
is($p->wait_build($x1->{json}{request_hash})->{status}, 200,
    'which ends');
for my $i (1 .. 3) {
	is($p->post('/api/v1/build', { %base, packages => ['test1'] },
	    { 'X-Forwarded-For' => '192.0.2.1' })->{status}, 200,
	    "proxy: asked again, a finished cache hit ($i)");
}
is($new->('192.0.2.1')->{status}, 202,
    'proxy: its second new build (the cache hits were free)');
my $r = $new->('192.0.2.1');
is($r->{status}, 429, 'proxy: its third is refused');
ok(($r->{headers}{'retry-after'} // 0) >= 1
    && $r->{headers}{'retry-after'} <= 30, 'with a sane Retry-After');
is($new->('192.0.2.2')->{status}, 202,
    'proxy: another client behind the proxy is counted apart');
is($new->('192.0.2.2, 192.0.2.1')->{status}, 429,
    'proxy: what a client puts left of the proxy\'s entry is ignored');
is($new->('192.0.2.1, 127.0.0.1')->{status}, 429,
    'proxy: a chain of trusted proxies is walked to the client');
is($new->('2001:db8::1')->{status}, 202, 'proxy: an IPv6 client');
is($new->('2001:db8::1')->{status}, 202, 'proxy: its second build');
is($new->('2001:db8::ffff')->{status}, 429,
    'proxy: another address of the same /64 is the same client');
is($new->('[2001:db8:0:1::1]:443')->{status}, 202,
    'proxy: the next /64 is another client');
is($new->(undef)->{status}, 202,
    'proxy: the proxy itself, without the header, is one more');
is(refused($p, 'rate_limit_builds'), 4, '/metrics counts the 429s');
is($p->stop, 0, 'clean stop');
$p->check_log_clean;
done_testing();
