# The operators' endpoints: GET /api/v1/queue lists running and waiting
# builds in order with their classes and phases; GET /metrics is valid
# Prometheus text that counts what this test did.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(sleep time);
use AsudTest;

my $t = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget'],
    conf => { build_jobs => 1 }, env => { STANDIN_TIME_SCALE => 3 });
$t->start;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');

# Three builds: one without a client (it starts first), then a web page's
# and a router's; the router's is listed ahead of the web page's.
my @posts = (
	$t->post('/api/v1/build', { %base, packages => ['test1'] }),
	$t->post('/api/v1/build', { %base, packages => ['test2'],
	    client => 'ofs/x' }),
	$t->post('/api/v1/build', { %base, packages => ['test1', 'test2'],
	    client => 'luci/x' }),
);
is($_->{status}, 202, 'build accepted') for @posts;
my ($first, $web, $router) = map { $_->{json}{request_hash} // '' } @posts;

# Wait until the first one has left the "queued" phase.
my $q;
my $deadline = time + 20;
while (time < $deadline) {
	$q = $t->get('/api/v1/queue');
	last if $q->{json} && @{ $q->{json}{queue} } &&
	    $q->{json}{queue}[0]{phase} ne 'queued';
	sleep(0.05);
}
is($q->{status}, 200, 'queue 200');
like($q->{headers}{'content-type'}, qr{^application/json}, 'queue is JSON');
my $list = $q->{json}{queue};
is(scalar @$list, 3, 'three builds listed');
is($q->{json}{running}, 1, 'one running');
is($q->{json}{queued}, 2, 'two queued');
is_deeply([map { $_->{request_hash} } @$list], [$first, $router, $web],
    'running first, then the router before the web page');
is_deeply([map { $_->{position} } @$list], [0, 0, 1], 'positions');
is_deeply([map { $_->{class} } @$list], ['other', 'router', 'web'],
    'classes');
is_deeply([map { $_->{client} } @$list], [undef, 'luci/x', 'ofs/x'],
    'clients');
isnt($list->[0]{phase}, 'queued', 'the running build has a phase')
    or diag($list->[0]{phase});
is($list->[1]{phase}, 'queued', 'a waiting build is queued');
is($list->[0]{version}, '1.2.3', 'version');
is($list->[0]{target}, 'testtarget/testsubtarget', 'target');
is($list->[0]{profile}, 'testprofile', 'profile');
ok($list->[1]{waiting_seconds} >= 0 && $list->[1]{running_seconds} == 0,
    'waiting and running seconds');
is($t->post('/api/v1/queue', {})->{status}, 405, 'POST to the queue: 405');

# Follow the log of the last one from the queue to its end: a streamed
# answer, counted like any other.
my $log = HTTP::Tiny->new(timeout => 300)
    ->get($t->base . "/api/v1/build/$web/log");
is($log->{status}, 200, 'log followed to the end')
    or diag("$log->{status} $log->{content}");
like($log->{content}, qr/Calculating checksums/, 'the whole log');

# Let them finish; the queue empties.
my %result;
for my $h ($first, $router, $web) {
	my $r = $t->wait_build($h);
	is($r->{status}, 200, 'build done');
	$result{$h} = $r->{json};
}
my $image = $result{$web}{images}[0]{name} // 'none';
is($t->request('HEAD', "/store/$web/$image")->{status}, 200,
    'HEAD of an image');
$q = $t->get('/api/v1/queue');
is_deeply($q->{json}, { queue => [], queued => 0, running => 0 },
    'empty queue');

# The metrics: every sample line parses, every metric has HELP and TYPE.
my $m = $t->get('/metrics');
is($m->{status}, 200, 'metrics 200');
is($m->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
    'Prometheus content type');
my (%help, %type, %v, @bad);
for my $line (split /\n/, $m->{content}) {
	if ($line =~ /^# HELP (\w+) \S/) {
		$help{$1} = 1;
	} elsif ($line =~ /^# TYPE (\w+) (counter|gauge|histogram)$/) {
		$type{$1} = $2;
	} elsif ($line =~ /^(\w+)(\{(?:\w+="[^"\\\n]*",?)*\})?
	    \ ([-+]?[0-9.e+-]+|\+Inf)$/x) {
		my ($name, $labels, $val) = ($1, $2 // '', $3);
		my $base = $name;
		$base =~ s/_(bucket|sum|count)$// unless $type{$name};
		push @bad, "no TYPE: $line" unless $type{$base} && $help{$base};
		$v{"$name$labels"} = $val;
	} else {
		push @bad, $line;
	}
}
is_deeply(\@bad, [], 'every line parses') or diag(join "\n", @bad);
ok(keys %v > 10, 'samples present');
cmp_ok($v{'asud_http_requests_total{route="/api/v1/build",status="202"}'}
    // 0, '>=', 3, 'three 202 answers to POST /api/v1/build counted');
cmp_ok($v{'asud_http_requests_total{route="/api/v1/queue",status="200"}'}
    // 0, '>=', 2, 'queue requests counted');
is($v{'asud_http_requests_total{route="/api/v1/build/{hash}/{sub}",'
    . 'status="200"}'} // 0, 1, 'the followed log counted');
is($v{'asud_http_requests_total{route="/store/{path}",status="200"}'} // 0,
    1, 'the HEAD of an image counted');
cmp_ok($v{'asud_builds_total{outcome="success"}'} // 0, '>=', 3,
    'three successful builds');
cmp_ok($v{'asud_build_duration_seconds_count'} // 0, '>=', 3,
    'histogram counts three builds');
is($v{'asud_build_duration_seconds_bucket{le="+Inf"}'},
    $v{'asud_build_duration_seconds_count'}, '+Inf bucket equals count');
cmp_ok($v{'asud_cache_misses_total'} // 0, '>=', 3, 'three cache misses');
cmp_ok($v{'asud_answer_cache_entries'} // 0, '>=', 3,
    'the three finished answers are kept in memory');
cmp_ok($v{'asud_answer_cache_bytes'} // 0, '>', 3 * 1000,
    'and their bytes counted');
is($v{'asud_queue_length{state="queued"}'}, 0, 'queue length 0');
is($v{'asud_queue_length{state="running"}'}, 0, 'running 0');
ok(defined $v{'asud_waiters'} && defined $v{'asud_log_followers'},
    'waiters and followers');
ok(defined $v{'asud_imagebuilder_downloads_total'} &&
    defined $v{'asud_imagebuilder_cache_bytes'} &&
    defined $v{'asud_upstream_fetch_errors_total'} &&
    defined $v{'asud_fetches_in_flight'}, 'download and upstream metrics');

is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
