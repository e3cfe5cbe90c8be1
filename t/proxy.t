# The shipped deployment files work: nginx with conf/nginx-asud.conf in
# front of asud passes builds, long polls and live logs through (the log
# arrives in pieces, not buffered to the end), the limits per client count
# the real clients behind it (trusted_proxies = 127.0.0.1), and the
# systemd unit built from conf/asud.service.in names the installed paths.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use AsudTest;
use NginxTest;

# The unit, as the build made it.
my $unit_file = dirname(AsudTest::bin()) . '/conf/asud.service';
my $unit = '';
if (open(my $uf, '<', $unit_file)) { local $/; $unit = <$uf> }
ok(length $unit, 'the systemd unit is built');
unlike($unit, qr/\@\w+\@/, 'the unit has no placeholder left');
like($unit, qr{^ExecStart=/\S*/asud -c /\S*/asud\.conf$}m,
    'ExecStart runs the installed asud with the installed configuration');
like($unit, qr{^ExecStartPre=/\S*/asud -n -c /\S*/asud\.conf$}m,
    'ExecStartPre checks the configuration first');

unless (NginxTest::available()) {
	diag('nginx is not installed: the proxy part is not run');
	done_testing();
	exit 0;
}

my $t = AsudTest->new(env => { STANDIN_TIME_SCALE => 1 },
    conf => { trusted_proxies => '127.0.0.1', rate_limit_builds => 2,
    max_followers_per_client => 1 });
# Builds stand still while this file exists (the limits part below); it
# is in the ImageBuilder's directory, the one the sandbox shows a build.
my $hold = $t->ib_dir . '/1.2.3/testtarget/testsubtarget/.hold';
$t->{env}{STANDIN_MISBEHAVE} = "hold=$hold";
$t->start;

# The shipped server block, pointed at this asud and a free port.
my $site = do { local $/; open(my $fh, '<', AsudTest::srcdir()
    . '/conf/nginx-asud.conf') or die "nginx-asud.conf: $!"; <$fh> };
my $n = $site =~ s/server 127\.0\.0\.1:8000;/server 127.0.0.1:${\ $t->port};/;
is($n, 1, 'the example names the sample listen address once');
$site =~ s/^\s*listen \[::\]:80;\n//m;
my $ng = NginxTest->new(dir => $t->dir . '/nginx', site => sub {
	my ($port) = @_;
	(my $text = $site) =~ s/^(\s*)listen 80;/$1listen 127.0.0.1:$port;/m;
	return $text;
});
is($ng->check, '', 'nginx accepts the example');
my $up = $ng->start;
my $port = $ng->port;
ok($up, 'nginx listens');
my $via = "http://127.0.0.1:$port";
my $direct = $t->base;

# A build through the proxy, followed live through it.
$t->{base} = $via;
my %req = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my $p = $t->post('/api/v1/build', { %req });
is($p->{status}, 202, 'proxy: POST 202');
my $h = $p->{json}{request_hash} // '';
my ($followed, $chunks) = ('', 0);
my $res = HTTP::Tiny->new(timeout => 120)->get("$via/api/v1/build/$h/log",
    { data_callback => sub { $followed .= $_[0]; $chunks++ } });
is($res->{status}, 200, 'proxy: the log followed to the end');
ok($chunks > 1, "proxy: the log arrived in pieces ($chunks), not buffered");
like($followed, qr/Building images/, 'proxy: with the ImageBuilder output');
my $done = $t->wait_build($h);
is($done->{status}, 200, 'proxy: the build is answered 200');
is($done->{headers}{'x-imagebuilder-status'}, 'done',
    'proxy: X-Imagebuilder-Status passes');
is($done->{headers}{'access-control-allow-origin'}, '*',
    'proxy: CORS passes');
$t->{base} = $direct;
is($t->get("/api/v1/build/$h")->{content}, $done->{content},
    'proxy: the same bytes as asud answers directly');

# A long poll through the proxy is held and answered.
$t->{base} = $via;
my $q = $t->post('/api/v1/build', { %req, packages => ['test2'] });
is($q->{status}, 202, 'proxy: a second build');
my $qh = $q->{json}{request_hash} // '';
my $w = $t->get("/api/v1/build/$qh?wait=30");
ok($w->{status} == 202 || $w->{status} == 200,
    "proxy: a long poll is answered ($w->{status})");
is($t->wait_build($qh)->{status}, 200, 'proxy: the second build ends');
my $big = $t->post('/api/v1/build', 'x' x (1024 * 1024 + 10));
is($big->{status}, 413, 'proxy: a large body is refused with 413');
like($big->{json}{detail} // '', qr/larger than the server accepts/,
    'proxy: with asud\'s own JSON answer');
$t->{base} = $direct;

# Limits per client through the proxy. The clients connect to nginx from
# 127.0.0.2 and 127.0.0.3, nginx to asud from 127.0.0.1 (trusted): nginx
# appends the address it saw to X-Forwarded-For, so the two are counted
# apart, and neither can pass for someone else by sending the header.
my %ua = map { ($_ => HTTP::Tiny->new(timeout => 60,
    local_address => "127.0.0.$_")) } (2, 3);
my $n = 0;
# A new build (a request hash not seen before) from 127.0.0.<who>.
sub via_post {
	my ($who, $headers) = @_;
	my $r = $ua{$who}->request('POST', "$via/api/v1/build", {
	    headers => { 'Content-Type' => 'application/json',
	    %{ $headers // {} } },
	    content => $AsudTest::JSON->encode({ %req, packages => ['aaa'],
	    rootfs_size_mb => 100 + $n++ }) });
	$r->{json} = eval { $AsudTest::JSON->decode($r->{content}) };
	return $r;
}
open(my $hf, '>', $hold) or die "$hold: $!";
close $hf;
my $l1 = via_post(2);
is($l1->{status}, 202, 'limits: a client behind the proxy builds');
my $lh = $l1->{json}{request_hash} // '';
is(via_post(2)->{status}, 202, 'limits: twice');
my $l3 = via_post(2);
is($l3->{status}, 429, 'limits: a third time it is refused');
like($l3->{headers}{'retry-after'} // '', qr/^[1-9]\d*$/,
    'with Retry-After, through nginx');
is(via_post(3)->{status}, 202,
    'limits: another client behind the proxy is counted apart');
is(via_post(2, { 'X-Forwarded-For' => '192.0.2.50' })->{status}, 429,
    'limits: a client\'s own X-Forwarded-For does not make it another');
is(via_post(2, { 'X-Forwarded-For' => '127.0.0.1' })->{status}, 429,
    'limits: not even the proxy\'s address');

# Followers of the log through the proxy are counted per client too.
my $deadline = time + 60;
sleep 0.05 while time < $deadline && ($t->get("/api/v1/build/$lh")
    ->{json}{detail} // '') ne 'started';
# The head of a streamed answer from nginx, as 127.0.0.<who>.
sub follow_head {
	my ($who) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    LocalAddr => "127.0.0.$who") or die "connect: $!";
	print $s "GET /api/v1/build/$lh/log HTTP/1.1\r\nHost: x\r\n\r\n";
	my ($buf, $end) = ('', time + 60);
	while ($buf !~ /\r\n\r\n/ && time < $end) {
		last unless IO::Select->new($s)->can_read(1)
		    ? sysread($s, $buf, 4096, length $buf) : 1;
	}
	my ($code) = $buf =~ m{^HTTP/1\.[01] (\d{3})};
	return ($s, $code // 0);
}
my ($f2, $c2) = follow_head(2);
is($c2, 200, 'limits: a client follows the log through the proxy');
my ($f3, $c3) = follow_head(3);
is($c3, 200, 'limits: another client too (one each)');
my ($f4, $c4) = follow_head(2);
is($c4, 429, 'limits: the first client\'s second follower is refused');
is(($t->get("/api/v1/build/$lh")->{json}{detail} // ''), 'started',
    'limits: the build stood still all along');
close($_) for $f2, $f3, $f4;
unlink $hold;
like($t->wait_build($lh, timeout => 120)->{status} // 0, qr/^(?:200|500)$/,
    'limits: the held build ends');

$ng->stop;
is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
