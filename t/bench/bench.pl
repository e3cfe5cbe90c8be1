#!/usr/bin/perl
# make bench: measures asud against a daemon it starts itself, on this
# machine, in one run: status polls per second for a finished build next
# to nginx serving the same bytes as a static file, cache-hit POSTs per
# second, memory per idle long-poll waiter at 10 000 waiters, and the
# time from a build finishing to its last waiter answered.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Time::HiRes qw(sleep time);
use AsudTest;

my $WAITERS = $ENV{BENCH_WAITERS} // 10000;
my $SECONDS = $ENV{BENCH_SECONDS} // 5;

sub rss { my $pid = shift; open(my $f, '<', "/proc/$pid/status") or return 0;
	while (<$f>) { return $1 if /^VmRSS:\s+(\d+)/ } 0 }
sub free_port { my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	LocalPort => 0, Listen => 1) or die; my $p = $s->sockport; close $s; $p }
sub wrk {
	my ($url, @extra) = @_;
	my $out = `wrk -t2 -c64 -d${SECONDS}s @extra '$url' 2>&1`;
	return $out =~ /Requests\/sec:\s+([\d.]+)/ ? $1 : die "wrk: $out";
}

die "wrk is needed (apt-get install wrk)\n" unless `which wrk` =~ /wrk/;
my $t = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget'],
    env => { STANDIN_TIME_SCALE => 0 }, conf => { max_wait => 120,
    max_waiters_per_client => 0 });
$t->start(args => ['-q']);
my %req = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my $done = $t->build({ %req });
die "bench: the build failed\n" unless $done->{status} == 200;
my $hash = $done->{json}{request_hash};
my $poll = $t->base . "/api/v1/build/$hash";

# 1. Status polls of a finished build, and nginx with the same bytes.
my $asud_rate = wrk($poll);
my $nginx_rate;
if (-x '/usr/sbin/nginx') {
	my $dir = $t->dir . '/nginx';
	mkdir $dir;
	open(my $fh, '>', "$dir/poll.json") or die;
	print $fh $done->{content};
	close $fh;
	my $port = free_port();
	open($fh, '>', "$dir/nginx.conf") or die;
	print $fh "daemon off; worker_processes 1; pid $dir/nginx.pid;\n"
	    . "error_log $dir/error.log; events { worker_connections 4096; }\n"
	    . "http { access_log off; server { listen 127.0.0.1:$port;\n"
	    . "root $dir; location / { default_type application/json; } } }\n";
	close $fh;
	my $pid = fork() // die;
	if ($pid == 0) { exec('/usr/sbin/nginx', '-p', $dir, '-c', "$dir/nginx.conf") or exit 127 }
	sleep 0.5;
	$nginx_rate = wrk("http://127.0.0.1:$port/poll.json");
	kill('TERM', $pid);
	waitpid($pid, 0);
}

# 2. Cache-hit POSTs.
my $lua = $t->dir . '/post.lua';
open(my $lf, '>', $lua) or die;
print $lf "wrk.method = 'POST'\nwrk.body = '" . encode_json({ %req })
    . "'\nwrk.headers['Content-Type'] = 'application/json'\n";
close $lf;
my $post_rate = wrk($t->base . '/api/v1/build', '-s', $lua);

# 3. Idle long-poll waiters on a running build, and their wake-up.
$t->stop;
$t->{env}{STANDIN_TIME_SCALE} = 6;
$t->start(args => ['-q']);
my $run = $t->post('/api/v1/build', { %req, packages => ['test2'] });
my $rh = $run->{json}{request_hash};
sleep 0.5;
my $before = rss($t->pid);
my @socks;
for (1 .. $WAITERS) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $t->port) or die "connect: $! (raise ulimit -n)\n";
	print $s "GET /api/v1/build/$rh?wait=120 HTTP/1.1\r\nHost: b\r\n\r\n";
	push @socks, $s;
}
sleep 1;
my $after = rss($t->pid);
my $sel = IO::Select->new(@socks);
my ($first, $last, $answered) = (undef, undef, 0);
my $deadline = time + 120;
while ($answered < @socks && time < $deadline) {
	for my $s ($sel->can_read(1)) {
		my $buf;
		sysread($s, $buf, 65536);
		$first //= time;
		$last = time;
		$answered++;
		$sel->remove($s);
		close $s;
	}
}
$t->stop;

printf "status poll of a finished build: %.0f requests/s (asud)\n", $asud_rate;
if (defined $nginx_rate) {
	printf "the same bytes from nginx:       %.0f requests/s\n", $nginx_rate;
	printf "ratio asud/nginx:                %.2f\n", $asud_rate / $nginx_rate;
} else {
	print "nginx not installed (apt-get install nginx-light): no comparison\n";
}
printf "cache-hit POSTs:                 %.0f requests/s\n", $post_rate;
printf "idle long-poll waiters:          %d, %.0f bytes each (RSS %d kB -> %d kB)\n",
    scalar @socks, ($after - $before) * 1024 / @socks, $before, $after;
printf "waiters woken by the build end:  %d in %.1f ms (first to last answer)\n",
    $answered, (($last // 0) - ($first // 0)) * 1000;
