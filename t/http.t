# The HTTP transport: request heads that a proxy and evhttp could read
# differently are refused with 400 and the connection closed (nothing
# smuggled after them is answered); a request must arrive whole within
# request_timeout and an idle keep-alive connection is closed after
# keepalive_timeout, while a held request is not cut; at the descriptor
# limit asud pauses accepting instead of spinning, and keeps answering.
use strict;
use warnings;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep time);
use AsudTest;

# Builds take 8 s (a wrapper sleeps before "make image"), for held
# requests that outlive both deadlines.
my $t = AsudTest->new(conf => { request_timeout => '2s',
    keepalive_timeout => '3s', max_wait => 30 });
my $wrapper = $t->dir . '/slow-wrapper.sh';
open(my $wfh, '>', $wrapper) or die "$wrapper: $!";
print $wfh "#!/bin/sh\ncase \"\$*\" in *image*) sleep 8;; esac\nexec \"\$@\"\n";
close($wfh);
chmod(0755, $wrapper);
$t->{conf}{build_wrapper} = $wrapper;
$t->start(args => ['-v']);

# A connection with text written to it.
sub conn {
	my ($text) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $t->port, Proto => 'tcp') or die "connect: $!";
	binmode($s);
	syswrite($s, $text) == length $text or die "write: $!"
	    if length $text;
	return $s;
}

# Everything the server sends until it closes (undef: still open after
# $timeout seconds).
sub read_all {
	my ($s, $timeout) = @_;
	my ($buf, $sel) = ('', IO::Select->new($s));
	my $deadline = time + ($timeout // 20);
	while (1) {
		my $left = $deadline - time;
		return undef if $left <= 0 || !$sel->can_read($left);
		my $n = sysread($s, $buf, 65536, length $buf);
		return $buf if !$n;
	}
}

# Reads one answer (head and Content-Length body) from a kept-alive socket.
sub read_one {
	my ($s, $timeout) = @_;
	my ($buf, $sel) = ('', IO::Select->new($s));
	my $deadline = time + ($timeout // 20);
	while (1) {
		if ($buf =~ /\r\n\r\n/) {
			my ($head) = $buf =~ /^(.*?\r\n\r\n)/s;
			my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
			return $buf if length $buf >= length($head) + ($len // 0);
		}
		my $left = $deadline - time;
		return undef if $left <= 0 || !$sel->can_read($left);
		my $n = sysread($s, $buf, 65536, length $buf);
		return $buf if !$n;
	}
}

my $smuggled = "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n";

# Each of these must be refused before its body is read.
my @bad = (
    [ 'two different Content-Lengths',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
      . "Content-Length: " . (length($smuggled) + 2) . "\r\n\r\n{}"
      . $smuggled ],
    [ 'the same Content-Length twice',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
      . "Content-Length: 2\r\n\r\n{}" . $smuggled ],
    [ 'a space before the colon',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
      . "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" . $smuggled ],
    [ 'Transfer-Encoding identity, chunked',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
      . "Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n" . $smuggled ],
    [ 'Transfer-Encoding gzip',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
      . "Transfer-Encoding: gzip\r\n\r\n" . $smuggled ],
    [ 'two Transfer-Encodings',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      . "chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
      . $smuggled ],
    [ 'Content-Length: +2',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n"
      . "\r\n{}" . $smuggled ],
    [ 'Content-Length with a tab before it',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nContent-Length:\t2\r\n"
      . "\r\n{}" . $smuggled ],
    [ 'Content-Length and Transfer-Encoding',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" . $smuggled ],
    [ 'HTTP/1.1 without Host',
      "GET /api/v1/stats HTTP/1.1\r\n\r\n" . $smuggled ],
    [ 'two Host headers',
      "GET /api/v1/stats HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
      . $smuggled ],
    [ 'NUL in a header value',
      "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"
      . $smuggled ],
    [ 'NUL in the request line',
      "GET /api/v1/stats\0x HTTP/1.1\r\nHost: x\r\n\r\n" . $smuggled ],
    [ 'HTTP/1.1111',
      "GET /api/v1/stats HTTP/1.1111\r\nHost: x\r\n\r\n" . $smuggled ],
    [ 'HTTP/1.257',
      "GET /api/v1/stats HTTP/1.257\r\nHost: x\r\n\r\n" . $smuggled ],
    [ 'a folded header line',
      "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x\r\n"
      . " chunked\r\n\r\n0\r\n\r\n" . $smuggled ],
    [ 'a bare CR in a header',
      "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"
      . $smuggled ],
);

for my $case (@bad) {
	my ($name, $text) = @$case;
	my $got = read_all(conn($text));
	ok(defined $got, "$name: the connection is closed");
	$got //= '';
	like($got, qr{\AHTTP/1\.[01] 400 }, "$name: answered 400");
	my $answers = () = $got =~ m{HTTP/1\.[01] \d{3} }g;
	is($answers, 1, "$name: the request after it is not answered");
	like($got, qr/^Connection: close\r$/mi, "$name: says Connection: close");
	like($got, qr/"status":\s*400/, "$name: the reference's error shape");
}

# A bad head that arrives a byte at a time is refused the same way.
{
	my $s = conn('');
	for my $c (split //, "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n") {
		syswrite($s, $c);
		sleep 0.01;
	}
	syswrite($s, $smuggled);
	my $got = read_all($s) // '';
	like($got, qr{\AHTTP/1\.1 400 }, 'a trickled bad head: 400');
	my $answers = () = $got =~ m{HTTP/1\.[01] \d{3} }g;
	is($answers, 1, 'a trickled bad head: nothing after it answered');
}

# What must keep working.
{
	my $got = read_all(conn("GET /api/v1/stats HTTP/1.0\r\n\r\n"));
	like($got // '', qr{\AHTTP/1\.[01] 200 }, 'HTTP/1.0 without Host');

	my $s = conn(("GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n" x 3)
	    . "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nConnection: close"
	    . "\r\n\r\n");
	$got = read_all($s) // '';
	my $answers = () = $got =~ m{HTTP/1\.1 200 }g;
	is($answers, 4, 'four pipelined GETs, four answers');

	my $body = '{"version":"1.2.3","target":"testtarget/testsubtarget",'
	    . '"profile":"testprofile","packages":["test1"]}';
	my $chunked = join('', map { sprintf("%x\r\n%s\r\n", length, $_) }
	    substr($body, 0, 10), substr($body, 10)) . "0\r\n\r\n";
	$got = read_all(conn("POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
	    . "Content-Type: application/json\r\nTransfer-Encoding: Chunked"
	    . "\r\nConnection: close\r\n\r\n$chunked")) // '';
	like($got, qr{\AHTTP/1\.1 20[02] }, 'a chunked POST body is read');

	$got = read_all(conn("POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
	    . "Content-Type: application/json\r\nContent-Length: "
	    . length($body) . "\r\nConnection: close\r\n\r\n$body")) // '';
	like($got, qr{\AHTTP/1\.1 20[02] }, 'a Content-Length POST body');

	# A head and body that come in pieces, well inside the deadline.
	$s = conn('');
	for my $piece ("GET /api/v1/st", "ats HTTP/1.1\r\nHo", "st: x\r\n",
	    "Connection: close\r\n", "\r\n") {
		syswrite($s, $piece);
		sleep 0.1;
	}
	like(read_all($s) // '', qr{\AHTTP/1\.1 200 }, 'a head in pieces');

	my $r = $t->get('/api/v1/stats');
	is($r->{status}, 200, 'an ordinary client still gets answers');
}

# Deadlines: a trickling client is dropped at request_timeout (2 s) though
# it sends a byte every 0.5 s.
{
	my $s = conn('');
	my $text = "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n"
	    . ("X-Slow: " . ('a' x 60) . "\r\n") x 4 . "\r\n";
	my $start = time;
	my ($closed, $sent) = (0, 0);
	my $sel = IO::Select->new($s);
	local $SIG{PIPE} = 'IGNORE';
	for my $c (split //, $text) {
		if ($sel->can_read(0)) {
			my $n = sysread($s, my $buf, 4096);
			if (!$n) {
				$closed = 1;
				last;
			}
		}
		last if !defined syswrite($s, $c);
		$sent++;
		sleep 0.5;
		last if time - $start > 30;
	}
	if (!$closed) {
		my $got = read_all($s, 10);
		$closed = defined $got && $got !~ /^HTTP/;
	}
	ok($closed, 'a client trickling a byte every 0.5 s is dropped');
	cmp_ok($sent, '<', length $text,
	    'before its head was complete');
}

# The body counts too: a head at once and a body a byte every 0.5 s.
{
	my $s = conn("POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
	    . "Content-Type: application/json\r\nContent-Length: 60\r\n\r\n");
	my ($closed, $sent) = (0, 0);
	my $sel = IO::Select->new($s);
	local $SIG{PIPE} = 'IGNORE';
	for (1 .. 60) {
		if ($sel->can_read(0)) {
			my $n = sysread($s, my $buf, 4096);
			$closed = !$n;
			last;
		}
		last if !defined syswrite($s, ' ');
		$sent++;
		sleep 0.5;
	}
	ok($closed, 'a client trickling its body is dropped');
	cmp_ok($sent, '<', 60, 'before the body was complete');
}

# An idle keep-alive connection is closed after keepalive_timeout (3 s),
# not before it answers a request sent in between.
{
	my $s = conn("GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n");
	like(read_one($s) // '', qr{\AHTTP/1\.1 200 }, 'keep-alive: first');
	sleep 1;
	syswrite($s, "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n");
	like(read_one($s) // '', qr{\AHTTP/1\.1 200 },
	    'keep-alive: second, after a pause shorter than the timeout');
	my $got = read_all($s, 20);
	ok(defined $got && $got eq '', 'then closed when idle');
}

# Held requests (a long poll of 5 s and a log follower of an 8 s build,
# both longer than the deadlines) are not cut by them.
{
	my $r = $t->post('/api/v1/build', { version => '1.2.3',
	    target => 'testtarget/testsubtarget', profile => 'testprofile',
	    packages => ['test2'] });
	my $h = $r->{json}{request_hash};
	my $deadline = time + 30;
	while (time < $deadline) {
		my $st = $t->get("/api/v1/build/$h")->{json}{imagebuilder_status}
		    // '';
		last if $st eq 'building_image';
		sleep 0.1;
	}
	my $log = conn("GET /api/v1/build/$h/log HTTP/1.1\r\nHost: x\r\n"
	    . "Connection: close\r\n\r\n");
	my $s = conn("GET /api/v1/build/$h?wait=5 HTTP/1.1\r\nHost: x\r\n\r\n");
	my $got = read_one($s, 20);
	like($got // '', qr{\AHTTP/1\.1 202 }, 'a held poll is answered');
	$got = read_all($log, 60);
	like($got // '', qr{\AHTTP/1\.1 200 }, 'a log follower is answered');
	like($got // '', qr/\r\n0\r\n\r\n\z/, 'to the end of its build');
}

# One request on its own connection: the status and the headers (names
# in lower case) of the answer.
sub ask {
	my ($method, $path, $head) = @_;
	my $got = read_all(conn("$method $path HTTP/1.1\r\nHost: x\r\n"
	    . "Connection: close\r\nContent-Length: 0\r\n" . ($head // '')
	    . "\r\n")) // '';
	my ($code) = $got =~ m{\AHTTP/1\.1 (\d{3}) };
	my ($text) = $got =~ /\A(.*?)\r\n\r\n/s;
	my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () }
	    split /\r\n/, $text // '';
	return ($code // 0, \%h);
}

# The routing table as the unit test lists it: every route's Allow list
# (derived from its methods) and a path it takes. For each route, every
# method it does not take gets 405 with that list, and its preflight
# names the table's methods, those of the route among them.
{
	my $list = $ENV{ASUD_UNIT_ROUTE} // 't/unit/route';
	open(my $fh, '-|', $list, '--list') or die "$list: $!";
	chomp(my @lines = <$fh>);
	close($fh) or die "$list --list failed";
	my ($opt, $preflight) = split /\t/, shift(@lines) // '';
	is($opt, 'OPTIONS', 'the listed table starts with the preflight');
	is($preflight, 'GET, HEAD, POST, OPTIONS',
	    'the preflight names the methods it always did');
	my %route = map { my ($al, $p) = split /\t/; ($p => $al) } @lines;
	cmp_ok(scalar @lines, '>=', 20, 'the table has its routes');
	my $h = '0123456789abcdef' x 4;
	my %known = ('/api/v1/build' => 'POST, OPTIONS',
	    "/api/v1/build/$h/log" => 'GET, OPTIONS',
	    "/api/v1/build/$h/events" => 'GET, OPTIONS',
	    '/api/v1/queue' => 'GET, HEAD, OPTIONS',
	    '/metrics' => 'GET, HEAD, OPTIONS', '/' => 'GET, HEAD, OPTIONS',
	    '/api/v1/overview' => 'any');
	for my $p (sort keys %known) {
		is($route{$p}, $known{$p}, "the table lists $p as $known{$p}");
	}
	for my $line (@lines) {
		my ($allow, $path) = split /\t/, $line;
		my %takes = map { $_ => 1 } split /, /, $allow;
		for my $m (qw(GET HEAD POST PUT DELETE PATCH)) {
			next if $takes{$m};
			my ($code, $hd) = ask($m, $path);
			if ($allow eq 'any') {
				is($code, 301, "$m $path: redirected");
				next;
			}
			is($code, 405, "$m $path: 405");
			is($hd->{allow}, $allow, "$m $path: Allow: $allow");
			is($hd->{'access-control-allow-origin'}, '*',
			    "$m $path: the CORS header");
		}
		my ($code, $hd) = ask('OPTIONS', $path, "Origin: http://x\r\n"
		    . "Access-Control-Request-Headers: content-type\r\n");
		is($code, 204, "OPTIONS $path: 204");
		my $methods = $hd->{'access-control-allow-methods'} // '';
		is($methods, $preflight, "OPTIONS $path: the table's methods");
		my %named = map { $_ => 1 } split /, /, $methods;
		ok(!grep({ !$named{$_} } grep { $_ ne 'any' } keys %takes),
		    "OPTIONS $path: names the route's methods");
		is($hd->{'access-control-allow-headers'}, 'content-type',
		    "OPTIONS $path: allows the headers asked for");
	}
}

# What /metrics counted.
sub metric {
	my ($d, $name) = @_;
	my ($v) = $d->get('/metrics')->{content} =~ /^\Q$name\E (\d+)$/m;
	return $v // -1;
}
cmp_ok(metric($t, 'asud_http_heads_refused_total'), '>=', scalar @bad + 1,
    '/metrics counts the refused heads');
cmp_ok(metric($t, 'asud_connections_timed_out_total'), '>=', 2,
    '/metrics counts the connections closed by a deadline');

ok($t->alive, 'the daemon is alive');
$t->stop;
$t->check_log_clean;

# Under `ulimit -n 64`, more connections than descriptors: asud must not
# spin (CPU well below the wall time), must not flood its log, must keep
# answering a connection it has, and must accept again once they go.
sub at_the_limit {
	my ($name, $conf, $says, $shed) = @_;
	my $d = AsudTest->new(conf => $conf);
	$d->start(args => ['-v'],
	    wrap => ['sh', '-c', 'ulimit -n 64 && exec "$@"', 'sh']);
	my $port = $d->port;
	my $keep = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp') or die "connect: $!";
	binmode($keep);
	syswrite($keep, "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n");
	like(read_one($keep) // '', qr{\AHTTP/1\.1 200 },
	    "$name: a kept-alive connection is answered");
	my @extra;
	for (1 .. 120) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $port, Proto => 'tcp', Timeout => 5) or last;
		push @extra, $s;
	}
	cmp_ok(scalar @extra, '>', 64, "$name: more connections than "
	    . "descriptors");
	sleep 1;
	my $log0 = -s "$d->{dir}/asud.log";
	my ($c0, $w0) = (AsudTest::cpu_seconds($d->pid), time);
	sleep 3;
	my ($c1, $w1) = (AsudTest::cpu_seconds($d->pid), time);
	my $log1 = -s "$d->{dir}/asud.log";
	ok(defined $c0 && defined $c1, "$name: its CPU time is readable");
	cmp_ok(($c1 // 0) - ($c0 // 0), '<', ($w1 - $w0) / 2,
	    "$name: it does not spin (CPU seconds below half the wall time)");
	cmp_ok($log1 - $log0, '<', 16384, "$name: its log stays small");
	ok($d->log_text =~ $says, "$name: it says why it does not accept");
	syswrite($keep, "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n");
	like(read_one($keep) // '', qr{\AHTTP/1\.1 200 },
	    "$name: the kept-alive connection is still answered");
	close($_) for @extra;
	close($keep);
	# The extra connections go a moment later on the server's side.
	my $status = 0;
	my $deadline = time + 30;
	while ($status != 200 && time < $deadline) {
		$status = HTTP::Tiny->new(timeout => 10)
		    ->get($d->base . '/api/v1/stats')->{status};
		sleep 0.2 if $status != 200;
	}
	is($status, 200, "$name: new connections are answered again");
	cmp_ok(metric($d, 'asud_accept_pauses_total'), '>', 0,
	    "$name: /metrics counts the pauses");
	cmp_ok(metric($d, 'asud_connections_shed_total'), '>', 0,
	    "$name: and the connections shed") if $shed;
	$d->stop;
	$d->check_log_clean;
}

at_the_limit('out of descriptors', { max_connections => 10000 },
    qr/out of file descriptors: not accepting for a moment/, 1);
at_the_limit('max_connections from the limit', {},
    qr/max_connections \(\d+\) reached/);
done_testing;
