# Failures that are not the request's fault are not kept as its answer:
# an ImageBuilder that cannot be downloaded, a build over job_timeout, a
# build killed by a signal asud did not send. The poll still shows the
# failure, and the next POST of the same request builds again. Failures
# that are the request's own (a package conflict) stay cached. /metrics
# counts the failures by reason.
use strict;
use warnings;
use Test::More;
use File::Path qw(remove_tree);
use Time::HiRes qw(sleep time);
use AsudTest;

BAIL_OUT('the usign-sign test tool (ASUD_USIGN_SIGN) is needed')
    unless $ENV{ASUD_USIGN_SIGN} && -x $ENV{ASUD_USIGN_SIGN};

my $TIMEOUT = 10;	# job_timeout: far more than a stand-in build takes
my $t = AsudTest->new(upstream => 'http', only => ['23.05.4/ath79/generic'],
    conf => { job_timeout => $TIMEOUT });
my $m = $t->mirror;
my $ib = $t->ib_dir . '/23.05.4/ath79/generic';
remove_tree($t->ib_dir . '/23.05.4');
# While this file exists, make image stands still (in the ImageBuilder's
# directory, where a sandboxed build sees it).
my $hold = "$ib/.hold";
END { unlink $hold if defined $hold }
$t->{env}{STANDIN_MISBEHAVE} = "hold=$hold";
$t->start;

my %base = (version => '23.05.4', target => 'ath79/generic',
    profile => 'tplink_archer-c7-v5');
my $gdir = $t->mirror_dir . '/releases/23.05.4/targets/ath79/generic';
my ($tb) = glob("$gdir/*imagebuilder*.tar.zst");
(my $tbpath = $tb // '') =~ s{^\Q${\ $t->mirror_dir}\E}{};
ok($tb, 'the mirror has the ImageBuilder tarball');

# How many times a build of hash was queued, from the daemon's log.
sub queued {
	my ($hash) = @_;
	my $short = substr($hash, 0, 12);
	return scalar(() = $t->log_text =~ /build \Q$short\E queued:/g);
}

# Waits for a condition (60 s is only a guard against a hung daemon).
sub eventually {
	my ($cond) = @_;
	my $deadline = time + 60;
	while (time < $deadline) {
		return 1 if $cond->();
		sleep 0.05;
	}
	return 0;
}

# The samples of /metrics by name and labels.
sub metrics {
	my %v;
	for (split /\n/, $t->get('/metrics')->{content} // '') {
		$v{$1} = $2 if /^(\w+(?:\{[^}]*\})?) (\S+)$/;
	}
	return \%v;
}

# A failure not kept: polled again it is the same answer; the next POST
# of the same request is a new build (202, queued again) that finishes.
sub retried {
	my ($name, $req, $fail) = @_;
	my $hash = $fail->{json}{request_hash} // '';
	my $again = $t->get("/api/v1/build/$hash");
	is($again->{status}, 500, "$name: a poll still shows the failure");
	is($again->{content}, $fail->{content}, "$name: the same body");
	is($again->{headers}{'x-imagebuilder-status'}, 'failed',
	    "$name: X-Imagebuilder-Status failed");
	is(queued($hash), 1, "$name: built once so far");
	my $post = $t->post('/api/v1/build', $req);
	is($post->{status}, 202, "$name: the next POST starts a new build");
	is($post->{json}{request_hash}, $hash, "$name: of the same request");
	is(queued($hash), 2, "$name: queued a second time");
	my $done = $t->wait_build($hash);
	is($done->{status}, 200, "$name: and this time it builds")
	    or diag($done->{json}{detail});
	is($t->post('/api/v1/build', $req)->{status}, 200,
	    "$name: the success is kept");
}

# (1) The ImageBuilder cannot be downloaded: upstream answers 500.
$t->part('download', sub {
	$m->fault($tbpath, '500');
	my $req = { %base, packages => ['test1'] };
	my $fail = $t->build($req);
	is($fail->{status}, 500, 'download: the build fails');
	is($fail->{json}{status}, 500, 'download: JSON status 500');
	like($fail->{json}{detail} // '', qr{^Error:\ Could\ not\ set\ up
	    \ the\ ImageBuilder\ for\ 23\.05\.4\ ath79/generic:\ .*
	    upstream\ answered\ 500}x, 'download: and says why');
	is($fail->{json}{error}, $fail->{json}{detail},
	    'download: error is detail');
	is($fail->{json}{imagebuilder_status}, 'failed',
	    'download: imagebuilder_status failed');
	ok(!-e $ib, 'download: nothing installed');
	$m->clear_faults;
	retried('download', $req, $fail);
	ok(-d $ib, 'download: the ImageBuilder is installed now');
});

# (2) A package conflict is the request's fault: kept and answered again.
$t->part('conflict', sub {
	my $req = { %base, packages => ['conflict-a', 'conflict-b'] };
	my $fail = $t->build($req);
	is($fail->{status}, 500, 'conflict: the build fails');
	like($fail->{json}{detail} // '',
	    qr/^Error: Impossible package selection: .*conflicts \(/,
	    'conflict: and says why');
	my $hash = $fail->{json}{request_hash} // '';
	my $misses = metrics()->{asud_cache_misses_total};
	my $again = $t->post('/api/v1/build', $req);
	is($again->{status}, 500, 'conflict: the next POST is the failure');
	is($again->{content}, $fail->{content},
	    'conflict: answered from the cache, the same bytes');
	is($again->{headers}{'x-imagebuilder-status'}, 'failed',
	    'conflict: X-Imagebuilder-Status failed');
	is(queued($hash), 1, 'conflict: no new build');
	is(metrics()->{asud_cache_misses_total}, $misses,
	    'conflict: no cache miss counted');
});

# (3) A build over job_timeout (make image stands still).
$t->part('timeout', sub {
	open(my $fh, '>', $hold) or die "$hold: $!";
	close($fh);
	my $req = { %base, packages => ['test2'] };
	my $fail = $t->build($req, timeout => 6 * $TIMEOUT);
	is($fail->{status}, 500, 'timeout: the build fails');
	like($fail->{json}{detail} // '',
	    qr/^Error: Build timed out after $TIMEOUT seconds/,
	    'timeout: and says why');
	unlink($hold) or die "$hold: $!";
	retried('timeout', $req, $fail);
});

# The parent of a process; undef when it is gone.
sub parent {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return undef;
	my ($ppid) = do { local $/; <$fh> } =~ /^PPid:\s+(\d+)/m;
	return $ppid;
}

# The running build command of the daemon (its process group leader, a
# child of asud: make, or bwrap in a sandbox), found from the stand-in
# it runs; undef when there is none.
sub build_leader {
	for my $dir (glob('/proc/[0-9]*')) {
		open(my $fh, '<', "$dir/cmdline") or next;
		my $cmd = do { local $/; <$fh> } // '';
		next unless $cmd =~ /standin-ib\0/;
		my ($pid) = $dir =~ /(\d+)$/;
		for (1 .. 32) {
			my $ppid = parent($pid) // last;
			return $pid if $ppid == $t->pid;
			last if $ppid <= 1;
			$pid = $ppid;
		}
	}
	return undef;
}

# (4) The build is lost: a signal asud did not send kills it.
$t->part('lost', sub {
	open(my $fh, '>', $hold) or die "$hold: $!";
	close($fh);
	my $req = { %base, packages => ['test1', 'test2'] };
	my $post = $t->post('/api/v1/build', $req);
	is($post->{status}, 202, 'lost: queued');
	my $hash = $post->{json}{request_hash} // '';
	my $leader;
	ok(eventually(sub { ($t->get("/api/v1/build/$hash")->{json}
	    {imagebuilder_status} // '') eq 'building_image' &&
	    defined($leader = build_leader()) }),
	    'lost: make image runs (and stands still)');
	ok(defined $leader && kill('KILL', -$leader), 'lost: killed');
	unlink($hold) or die "$hold: $!";
	my $fail = $t->wait_build($hash);
	is($fail->{status}, 500, 'lost: the build fails');
	is($fail->{json}{detail}, 'Error: Error while building firmware. '
	    . 'See stdout/stderr', 'lost: with the usual message');
	retried('lost', $req, $fail);
});

# (5) The failures by reason, and the success and failure totals.
$t->part('metrics', sub {
	my $v = metrics();
	my %want = (package_selection => 1, too_big => 0, profile => 0,
	    version => 0, imagebuilder => 1, timeout => 1, disk_full => 0,
	    lost => 1, other => 0);
	for my $why (sort keys %want) {
		is($v->{"asud_builds_total{outcome=\"failure\",reason=\"$why\"}"},
		    $want{$why}, "metrics: failures for $why");
	}
	my $all = 0;
	$all += $v->{"asud_builds_total{outcome=\"failure\",reason=\"$_\"}"}
	    // 0 for keys %want;
	is($all, 4, 'metrics: four failures in all');
	ok(!exists $v->{'asud_builds_total{outcome="failure"}'},
	    'metrics: no failure sample without a reason (sums count once)');
	is($v->{'asud_builds_total{outcome="success"}'}, 3,
	    'metrics: three successes');
});

is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
