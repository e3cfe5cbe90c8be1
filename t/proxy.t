# The shipped deployment files work: nginx with conf/nginx-asud.conf in
# front of asud passes builds, long polls and live logs through (the log
# arrives in pieces, not buffered to the end), and the systemd unit built
# from conf/asud.service.in names the installed paths.
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use HTTP::Tiny;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use AsudTest;

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

my $nginx = '/usr/sbin/nginx';
unless (-x $nginx) {
	diag('nginx is not installed: the proxy part is not run');
	done_testing();
	exit 0;
}

sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Listen => 1) or die "socket: $!";
	my $p = $s->sockport;
	close $s;
	return $p;
}

my $t = AsudTest->new(env => { STANDIN_TIME_SCALE => 1 });
$t->start;

# The shipped server block, pointed at this asud and a free port.
my $site = do { local $/; open(my $fh, '<', AsudTest::srcdir()
    . '/conf/nginx-asud.conf') or die "nginx-asud.conf: $!"; <$fh> };
my $n = $site =~ s/server 127\.0\.0\.1:8000;/server 127.0.0.1:${\ $t->port};/;
is($n, 1, 'the example names the sample listen address once');
$site =~ s/^\s*listen \[::\]:80;\n//m;
my $dir = $t->dir . '/nginx';
mkdir $dir;
for my $sub (qw(body proxy fastcgi uwsgi scgi)) { mkdir "$dir/$sub" }

# Writes the server block listening on port.
sub write_site {
	my ($port) = @_;
	(my $text = $site) =~ s/^(\s*)listen 80;/$1listen 127.0.0.1:$port;/m;
	open(my $fh, '>', "$dir/site.conf") or die;
	print $fh $text;
	close $fh;
}

# The pid in nginx's pid file, which it writes once it has its port.
sub nginx_pid {
	open(my $fh, '<', "$dir/nginx.pid") or return 0;
	my $p = <$fh> // '';
	close $fh;
	return $p =~ /^(\d+)/ ? $1 : 0;
}

my $port = free_port();
write_site($port);
open(my $fh, '>', "$dir/nginx.conf") or die;
print $fh ($> == 0 ? "user root;\n" : '')
    . "daemon off; worker_processes 1; pid $dir/nginx.pid;\n"
    . "error_log $dir/error.log; events { worker_connections 256; }\n"
    . "http { access_log off; client_body_temp_path $dir/body;\n"
    . "proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;\n"
    . "uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;\n"
    . "include $dir/site.conf; }\n";
close $fh;
my $check = `$nginx -t -p $dir -c $dir/nginx.conf 2>&1`;
is($? >> 8, 0, 'nginx accepts the example') or diag($check);
# free_port lets its port go, so another test's server may take it
# before nginx does: nginx then exits, and another port is tried.
my ($pid, $up);
for my $try (1 .. 5) {
	$pid = fork() // die "fork: $!";
	if ($pid == 0) {
		exec($nginx, '-p', $dir, '-c', "$dir/nginx.conf") or exit 127;
	}
	my ($exited, $deadline) = (0, time + 30);
	until ($up || time > $deadline) {
		if (waitpid($pid, WNOHANG) == $pid) {
			$exited = 1;
			last;
		}
		$up = nginx_pid() == $pid
		    && IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
		sleep 0.05 unless $up;
	}
	last if $up;
	if (!$exited) {
		kill('TERM', $pid);
		waitpid($pid, 0);
	}
	diag("nginx did not start on port $port:\n"
	    . (`cat $dir/error.log 2>/dev/null` // ''));
	$port = free_port();
	write_site($port);
}
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

kill('TERM', $pid);
waitpid($pid, 0);
is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
