# Upstream faults: an unreachable upstream, a slow one (longer than
# upstream_timeout), 404, 500, malformed JSON, truncated and dropped
# answers. Without a cached copy each gives a clear 503-class JSON error
# (a slow upstream's too: upstream_timeout ends the wait); with one, asud
# keeps serving the last good copy, across a restart too. The daemon
# answers other requests while a fetch hangs. How long an answer took is
# never checked, only what it was and what was still waiting meanwhile.
use strict;
use warnings;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use HTTP::Tiny;
use JSON::PP;
use File::Path qw(remove_tree);
use Time::HiRes qw(sleep time);
use AsudTest;

my $JSON = JSON::PP->new->canonical->allow_nonref;
my $TIMEOUT = 2;		# upstream_timeout, seconds
# ath79 has its ImageBuilder on disk; x86's is removed, so only upstream
# metadata can say whether an x86 request is valid.
my @ONLY = ('23.05.4/ath79/generic', '23.05.4/x86/64');
my %REQ = (version => '23.05.4', target => 'ath79/generic',
    profile => 'tplink_archer-c7-v5');
my %X86 = (version => '23.05.4', target => 'x86/64', profile => 'generic');
my $PROFILE = '/json/v1/releases/23.05.4/targets/ath79/generic/'
    . 'tplink_archer-c7-v5.json';
my $REVISION = '/api/v1/revision/23.05.4/ath79/generic';
my @MODES = qw(404 500 malformed truncate drop);
my $n = 0;

sub H { ref $_[0] eq 'HASH' ? $_[0] : {} }

sub new_post { return +{ %REQ, packages => [ 'p' . ++$n ] } }
sub new_x86 { return +{ %X86, packages => [ 'p' . ++$n ] } }

# A test daemon whose x86 ImageBuilder is not on disk.
sub new_asud {
	my (%o) = @_;
	my $t = AsudTest->new(only => \@ONLY, timeout => 20, %o);
	remove_tree($t->ib_dir . '/23.05.4/x86');
	return $t;
}

# A clear answer when there is nothing to serve: 502, 503 or 504, JSON
# with the code as status and a readable detail. @also lists other
# acceptable codes (the reference's 404 passthrough).
sub clear_error {
	my ($res, $name, @also) = @_;
	my %ok = map { $_ => 1 } 502, 503, 504, @also;
	ok($ok{ $res->{status} }, "$name: a 503-class answer")
	    or diag("got $res->{status}: "
	    . substr($res->{content} // '', 0, 300));
	my $j = H($res->{json});
	is($j->{status}, $res->{status}, "$name: JSON status is the code");
	ok(defined $j->{detail} && !ref $j->{detail} && length $j->{detail} > 5,
	    "$name: a readable detail") or diag($res->{content});
	is($res->{headers}{'access-control-allow-origin'}, '*', "$name: CORS");
}

# The daemon still serves what needs no upstream.
sub still_serving {
	my ($t, $name) = @_;
	my $s = $t->get('/api/v1/stats');
	is($s->{status}, 200, "$name: /api/v1/stats still answers");
	is($t->get('/api/v1/build/' . ('0' x 64))->{status}, 404,
	    "$name: unknown hash still 404");
}

# The requests that need upstream data, with no copy to fall back on. A
# target whose ImageBuilder is on disk may be accepted from it. When
# upstream answered 404, that is an answer: the reference's 400 and 404
# are fine then.
sub no_copy {
	my ($t, $name, $is404) = @_;
	my @also = $is404 ? (404) : ();
	clear_error($t->post('/api/v1/build', new_x86()),
	    "$name POST", $is404 ? (400) : ());
	my $ib = $t->post('/api/v1/build', new_post());
	ok($ib->{status} == 202 || $ib->{status} == 503, "$name POST for an "
	    . 'ImageBuilder on disk: 202 or 503')
	    or diag("got $ib->{status}");
	clear_error($t->get('/json/v1/overview.json'), "$name overview.json");
	clear_error($t->get($REVISION), "$name revision", @also);
	clear_error($t->get($PROFILE), "$name profile JSON", @also);
	still_serving($t, $name);
}

# A port nothing listens on, and its socket: bound without listening,
# which refuses connections and keeps other tests' servers off the port
# for as long as the socket is held.
sub closed_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp') or die "bind: $!";
	return ($s->sockport, $s);
}

# Sends a POST without waiting for its answer.
sub post_later {
	my ($t, $req) = @_;
	my $body = $JSON->encode($req);
	return $t->raw_send("POST /api/v1/build HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    . "Content-Type: application/json\r\nContent-Length: "
	    . length($body) . "\r\nConnection: close\r\n\r\n$body");
}

sub still_waiting { !IO::Select->new($_[0])->can_read(0) }

# --- 0. the fixture server itself -------------------------------------------

{
	my $f = AsudTest->new(upstream => 'http',
	    only => ['1.2.3/testtarget/testsubtarget']);
	my $fm = $f->mirror;
	my $h = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
	my $url = $fm->url . '/.versions.json';
	my $r = $h->get($url);
	is($r->{status}, 200, 'mirror: serves .versions.json');
	ok(eval { $JSON->decode($r->{content})->{versions_list} },
	    'mirror: the stand-in .versions.json');
	ok($r->{headers}{etag} && $r->{headers}{'last-modified'},
	    'mirror: ETag and Last-Modified');
	is($h->get($url, { headers => {
	    'If-None-Match' => $r->{headers}{etag} } })->{status}, 304,
	    'mirror: 304 to If-None-Match');
	is($h->get($url, { headers => { 'If-Modified-Since' =>
	    $r->{headers}{'last-modified'} } })->{status}, 304,
	    'mirror: 304 to If-Modified-Since');
	is($h->head($url)->{headers}{'content-length'}, length $r->{content},
	    'mirror: HEAD gives the length');
	is($h->get($fm->url . '/releases/')->{status}, 404,
	    'mirror: no directory listing');
	isnt($h->get($fm->url . '/releases/%2e%2e/.versions.json')->{status},
	    200, 'mirror: no ..');
	is($fm->count('/.versions.json', status => 304), 2,
	    'mirror: counts requests per path and answer');
	$fm->fault('/.versions', '500');
	is($h->get($url)->{status}, 500, 'mirror: fault 500 by prefix');
	is($h->get($fm->url . '/releases/1.2.3/.targets.json')->{status}, 200,
	    'mirror: only under the prefix');
	$fm->fault('/.versions', 'malformed');
	$r = $h->get($url);
	ok($r->{status} == 200 && !eval { $JSON->decode($r->{content}); 1 },
	    'mirror: malformed is a 200 with junk');
	$fm->fault('/.versions', 'truncate');
	isnt($h->get($url)->{status}, 200, 'mirror: truncate breaks the body');
	$fm->fault('/.versions', 'drop');
	isnt($h->get($url)->{status}, 200, 'mirror: drop closes');
	$fm->fault('/.versions', 'slow', 1);
	my $t0 = time;
	is($h->get($url)->{status}, 200, 'mirror: slow answers');
	ok(time - $t0 >= 0.9, 'mirror: after the delay');
	$fm->clear_faults;
	is($h->get($url)->{status}, 200, 'mirror: faults cleared');
	$fm->stop;
	ok(!HTTP::Tiny->new(timeout => 2)->get($url)->{success},
	    'mirror: stopped');
}

# --- 1. unreachable, no copy ------------------------------------------------

my ($port, $closed) = closed_port();
my $u = new_asud(conf => {
    upstream_url => "http://127.0.0.1:$port", upstream_timeout => "${TIMEOUT}s",
    metadata_refresh => '300s' });
$u->part('unreachable', sub {
	$u->start;
	ok($u->alive, 'unreachable: asud starts anyway');
	no_copy($u, 'unreachable');
});
$u->stop;
is($u->{exit}, 0, 'unreachable: asud stops cleanly');
$u->check_log_clean;
close($closed);

# --- 2. faults with no copy -------------------------------------------------

my $t = new_asud(upstream => 'http', conf => {
    upstream_timeout => "${TIMEOUT}s", metadata_refresh => '1s' });
my $m = $t->mirror;
# 404 last: it is an answer, which asud may keep as one for a while.
my @NOCOPY = ((grep { $_ ne '404' } @MODES), '404');
$m->fault('/', $NOCOPY[0]);
$t->start;
for my $mode (@NOCOPY) {
	$t->part("$mode, no copy", sub {
		$m->fault('/', $mode);
		sleep 1.2;		# past metadata_refresh
		no_copy($t, "$mode", $mode eq '404');
	});
}
ok($m->count('/.versions.json', status => 'malformed')
    + $m->count('/.versions.json', status => 'drop') >= 1,
    'the faults reached asud');
# Last: a hung fetch may still complete after its client got the error.
$m->fault('/', 'slow', 6);
$t->part('slow, no copy', sub {
	sleep 1.2;		# past metadata_refresh: the 404s are old
	my $sock = post_later($t, new_x86());
	sleep 0.3;
	ok(still_waiting($sock), 'slow: the POST waits for upstream');
	still_serving($t, 'slow');
	ok(still_waiting($sock), 'slow: stats answered while the fetch hangs');
	my $res = $t->raw_read($sock, 20);
	clear_error($res, 'slow POST');
	ok($m->count('/.versions.json') >= 1, 'slow: asud asked the mirror');
	clear_error($t->get('/json/v1/overview.json'), 'slow overview.json');
});
$t->stop;
is($t->{exit}, 0, 'faults: asud stops cleanly');
$t->check_log_clean;

# --- 3. a good copy, then faults --------------------------------------------

my $c = new_asud(upstream => 'http', conf => {
    upstream_timeout => "${TIMEOUT}s", metadata_refresh => '1s' });
my $cm = $c->mirror;
my ($ov, $rev, $prof);
$cm->fault('/', 'slow', 1);
$c->part('slow but in time', sub {
	$c->start;
	my $sock = post_later($c, new_x86());
	sleep 0.3;
	ok(still_waiting($sock), 'slow ok: the POST waits for upstream');
	still_serving($c, 'slow ok');
	my $res = $c->raw_read($sock, 30);
	is($res && $res->{status}, 202, 'slow ok: then it is accepted')
	    or diag($res && $res->{content});
});
$cm->clear_faults;
$c->part('good copy', sub {
	my $deadline = time + 30;
	my $res;
	do {
		$res = $c->get('/json/v1/overview.json');
	} while ($res->{status} != 200 && time < $deadline && sleep 0.2);
	is($res->{status}, 200, 'good: overview.json');
	$ov = H($res->{json});
	my $v = H(H($ov->{branches})->{'23.05'})->{versions};
	ok(grep({ $_ eq '23.05.4' } @{ ref $v eq 'ARRAY' ? $v : [] }),
	    'good: lists 23.05.4');
	$rev = $c->get($REVISION);
	is($rev->{status}, 200, 'good: revision');
	$prof = $c->get($PROFILE);
	is($prof->{status}, 200, 'good: profile JSON');
	is($c->post('/api/v1/build', new_post())->{status}, 202,
	    'good: a build is accepted');
});

# Everything that had a good copy is served from it.
sub from_copy {
	my ($t, $name) = @_;
	my $o = $t->get('/json/v1/overview.json');
	is($o->{status}, 200, "$name: overview.json from the last good copy");
	is_deeply(H($o->{json})->{latest}, $ov->{latest}, "$name: same latest");
	is_deeply(H(H(H($o->{json})->{branches})->{'23.05'})->{versions},
	    $ov->{branches}{'23.05'}{versions}, "$name: same 23.05 versions");
	my $r = $t->get($REVISION);
	is($r->{status}, 200, "$name: revision from the copy");
	is_deeply($r->{json}, $rev->{json}, "$name: same revision");
	my $p = $t->get($PROFILE);
	is($p->{status}, 200, "$name: profile JSON from the copy");
	is_deeply($p->{json}, $prof->{json}, "$name: same profile JSON");
	my $b = $t->post('/api/v1/build', new_post());
	is($b->{status}, 202,
	    "$name: a new build is validated against the copy")
	    or diag($b->{content});
	my $x = $t->post('/api/v1/build', new_x86());
	is($x->{status}, 202, "$name: also one with no ImageBuilder on disk")
	    or diag($x->{content});
}

for my $mode (@MODES) {
	$c->part("$mode, with a copy", sub {
		$cm->fault('/', $mode);
		my $mark = $cm->mark;
		sleep 1.2;		# past metadata_refresh
		from_copy($c, "$mode with a copy");
		# The refresh runs behind the answers: wait for it to arrive.
		my $deadline = time + 30;
		sleep 0.05 while time < $deadline
		    && $cm->requests(since => $mark) < 1;
		ok($cm->requests(since => $mark) >= 1,
		    "$mode with a copy: asud tried upstream again");
	});
}
$cm->fault('/', 'slow', 6);
$c->part('slow, with a copy', sub {
	sleep 1.2;
	from_copy($c, 'slow with a copy');
	still_serving($c, 'slow with a copy');
});

# A restart with upstream down still has the copy (it lives in LMDB).
$cm->fault('/', 'drop');
$c->part('restart with a copy', sub {
	$c->stop;
	is($c->{exit}, 0, 'restart: asud stopped cleanly');
	$c->start;
	from_copy($c, 'after a restart, upstream down');
});
$cm->clear_faults;
$c->stop;
is($c->{exit}, 0, 'copy: asud stops cleanly');
$c->check_log_clean;

# --- clients that go away while asud waits, and a stop mid-fetch ------------

my $g = AsudTest->new(upstream => 'http', only => ['23.05.4/x86/64'],
    conf => { upstream_timeout => '3s' });
{
	$g->start;
	$g->mirror->fault('/', 'slow', 2);
	for my $i (1 .. 5) {
		my $body = $JSON->encode({ version => '23.05.4',
		    target => 'x86/64', profile => 'generic', packages => ["g$i"] });
		close($g->raw_send("POST /api/v1/build HTTP/1.1\r\nHost: x\r\n"
		    . "Content-Type: application/json\r\nContent-Length: "
		    . length($body) . "\r\n\r\n$body"));
		close($g->raw_send("GET /json/v1/overview.json HTTP/1.1\r\n"
		    . "Host: x\r\n\r\n"));
	}
	sleep 0.5;
	is($g->get('/api/v1/stats')->{status}, 200,
	    'gone: asud serves while answers for departed clients wait');
	$g->stop;
	is($g->{exit}, 0, 'gone: a stop with fetches in flight is clean');
	$g->check_log_clean;
}

done_testing();
