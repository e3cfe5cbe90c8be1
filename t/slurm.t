#!/usr/bin/perl
# asud with build_runner = slurm, against a single-node cluster of the
# test's own (t/lib/SlurmTest.pm): a build from POST to a downloaded
# image with its log followed live; four builds of one target at once as
# four cluster jobs; a timeout and an operator's scancel, failures that
# are not kept; a stop of asud that cancels its job; kill -9 of asud
# during a build and a restart that cancels the old instance's job and
# builds again; a lost node, a clear failure while asud keeps serving.
# It prints (does not assert) the time from POST to 200 through Slurm
# against the local runner.
#
# Builds stand still while a file exists (the stand-in's hold), so that
# "while it runs" needs no clock. Slurm not installed is a failure, not
# a skip: ./bootstrap installs it.
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use Test::More;
use Time::HiRes qw(sleep time);
use AsudTest;
use SlurmTest;

my $c = SlurmTest->for_test(cpus => 8);

my %BASE = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
# The words of slurm_args; the comment shows in squeue that they reached
# srun.
my $COMMENT = 'asud-slurm-test';
my %CONF = (build_runner => 'slurm', slurm_partition => $c->partition,
    slurm_args => "--comment=$COMMENT --cpus-per-task=1", build_jobs => 4,
    allow_defaults => 'true', job_timeout => 30);
my $t = AsudTest->new(conf => { %CONF },
    env => { %{ $c->env }, STANDIN_TIME_SCALE => 0.3 }, timeout => 120);
# The hold file is named relative to the directory a build runs in
# (the ImageBuilder's or a build slot's, the only ones its sandbox
# shows): it goes into the ImageBuilder, whence a new slot copies it, and
# into every slot made so far.
my $ib = $t->ib_dir . '/1.2.3/testtarget/testsubtarget';
sub holds { return ("$ib/.hold", map { "$_/.hold" } grep { -d }
    glob("$ib/.asud-slots/*")) }
END { unlink(holds()) if defined $ib }
$t->{env}{STANDIN_MISBEHAVE} = 'hold=.hold';
$t->start;

# A request of its own per tag (its defaults differ), so a hash per tag.
sub req { return { %BASE, defaults => "echo $_[0]\n" } }
sub short { substr($_[0], 0, 12) }
sub jobname { 'asud-' . short($_[0]) }

sub hold {
	for my $f (holds()) {
		open(my $fh, '>', $f) or die "$f: $!";
		close($fh);
	}
}
sub release { unlink(holds()) }

sub post_new {
	my ($tag) = @_;
	my $r = $t->post('/api/v1/build', req($tag));
	is($r->{status}, 202, "$tag: accepted") or diag($r->{content});
	return $r->{json}{request_hash} // '';
}

# The cluster's live jobs of a build.
sub cjobs { $c->jobs(jobname($_[0])) }

# Waits until the build is at make image (where the hold keeps it: not
# make info or make manifest, which end by themselves and would let the
# next command meet what the test does), its job is RUNNING and its step
# runs (a task process of it exists: a signal or scancel now reaches the
# step); the job's id, or undef.
sub wait_step {
	my ($h) = @_;
	my $id;
	SlurmTest::wait_for(60, sub {
		my $st = $t->get("/api/v1/build/$h")->{json} // {};
		return 0 unless ($st->{imagebuilder_status} // '') eq
		    'building_image';
		my ($j) = grep { $_->[2] eq 'RUNNING' } cjobs($h);
		return 0 unless $j && $c->tasks(jobname($h));
		$id = $j->[0];
		return 1;
	});
	return $id;
}

# At the failed answer, checked at once: the build's job has already left
# the queue, so that its slot, given back, holds nothing of it.
sub left_queue {
	my ($what, $h) = @_;
	my @j = cjobs($h);
	ok(!@j, "$what: at the 500 its job has already left squeue")
	    or diag(join(' ', map { "@$_" } @j));
}

# Nothing of the build is left in the cluster: no job in squeue, no task.
sub gone {
	my ($what, $h) = @_;
	ok(SlurmTest::wait_for(30, sub { !cjobs($h) && !$c->tasks(jobname($h)) }),
	    "$what: nothing of it is left in squeue or on the node")
	    or diag($c->run('squeue'));
}

# Every image of a finished build downloads with its listed sha256.
sub images_ok {
	my ($r, $what) = @_;
	my @img = @{ $r->{json}{images} // [] };
	my $bad = 0;
	for my $img (@img) {
		my $dl = $t->get("/store/$r->{json}{bin_dir}/$img->{name}");
		$bad++ unless $dl->{status} == 200
		    && sha256_hex($dl->{content}) eq $img->{sha256};
	}
	ok(@img && !$bad, "$what: its images download with their sha256");
}

# The last lines of a failed build's stderr, for the report of Slurm's
# texts.
sub err_tail {
	my ($r) = @_;
	my @l = split /\n/, $r->{json}{stderr} // '';
	splice(@l, 0, @l - 8) if @l > 8;
	return join('', map { "  $_\n" } @l);
}

# A failure that is not kept: a poll shows it again, the next POST is a
# new build (202) that finishes.
sub retried {
	my ($what, $tag, $fail) = @_;
	my $h = $fail->{json}{request_hash} // '';
	my $again = $t->get("/api/v1/build/$h");
	is($again->{status}, 500, "$what: a poll still shows the failure");
	my $post = $t->post('/api/v1/build', req($tag));
	is($post->{status}, 202, "$what: the next POST builds again")
	    or diag($post->{content});
	my $done = $t->wait_build($h, timeout => 90);
	is($done->{status}, 200, "$what: and this time it builds")
	    or diag($done->{json}{detail});
}

# asud stopped and started again on its state directory with other
# settings.
sub restart {
	my (%o) = @_;
	$t->stop;
	$t->{conf} = { %CONF, %{ $o{conf} // {} } };
	$t->{env}{STANDIN_TIME_SCALE} = $o{scale} if defined $o{scale};
	$t->start;
}

# 1. One build through Slurm, its log followed live over HTTP.
$t->part('live', sub {
	my $h = post_new('live');
	my $name = jobname($h);
	my ($followed, $chunks, $seen) = ('', 0, '');
	my $res = HTTP::Tiny->new(timeout => 120)->get(
	    $t->base . "/api/v1/build/$h/log", { data_callback => sub {
		$followed .= $_[0];
		$chunks++;
		# What squeue says of the build while its log arrives
		# (between two commands there may be no job, or one
		# COMPLETING).
		$seen .= join('', map { "$_\n" } grep { /^\Q$name\E\|/ }
		    split /\n/, $c->run('squeue', '-h', '-o', '%j|%P|%k|%T'))
		    unless $seen =~ /\|RUNNING$/m;
	} });
	is($res->{status}, 200, 'live: the followed log answers 200');
	ok($chunks > 1, "live: it arrived in pieces ($chunks)");
	like($followed, qr/Building images/,
	    'live: it holds the ImageBuilder\'s output');
	like($seen, qr/^\Q$name\E\|asud\|\Q$COMMENT\E\|RUNNING$/m,
	    "live: meanwhile squeue showed job $name RUNNING in partition "
	    . 'asud, with slurm_args') or diag("squeue: '$seen'");
	my $done = $t->get("/api/v1/build/$h");
	is($done->{status}, 200, 'live: the build is done')
	    or diag($done->{json}{detail});
	images_ok($done, 'live');
	is($t->get("/api/v1/build/$h/log")->{content}, $followed,
	    'live: the followed log is the stored log, byte for byte');
	gone('live', $h);
});

restart(scale => 0);

# 2. Four builds of one target at once: four jobs RUNNING together.
$t->part('four', sub {
	hold();
	my @h = map { post_new("four $_") } 1 .. 4;
	my %names = map { (jobname($_) => 1) } @h;
	my $most = 0;
	my $all = SlurmTest::wait_for(60, sub {
		my %r = map { ($_->[1] => 1) }
		    grep { $_->[2] eq 'RUNNING' && $names{$_->[1]} }
		    $c->jobs('asud-');
		$most = keys %r if keys %r > $most;
		return keys %r == 4;
	});
	ok($all, 'four: squeue shows the four builds RUNNING at once')
	    or diag("most at once: $most\n" . $c->run('squeue'));
	is($t->get('/api/v1/queue')->{json}{running}, 4,
	    'four: asud counts four running');
	release();
	for my $i (0 .. 3) {
		my $r = $t->wait_build($h[$i], timeout => 90);
		is($r->{status}, 200, "four $i: built")
		    or diag($r->{json}{detail});
		images_ok($r, "four $i");
		gone("four $i", $h[$i]);
	}
});

# 3. job_timeout: the cluster job is cancelled, the failure not kept. The
# step cleans up slowly (a build_wrapper that outlives its terminated
# command, deaf to SIGTERM): it outlives srun, killed 5 s after its
# SIGTERM, and the scancel by Slurm's KillWait. The build ends only once
# the job left the queue.
my $slow = "$c->{dir}/slow-term-wrapper";
{
	open(my $fh, '>', $slow) or die "$slow: $!";
	print $fh "#!/bin/sh\ntrap 'term=1' TERM\n\"\$@\"\nrc=\$?\n"
	    . "[ -n \"\$term\" ] && { trap '' TERM; sleep 30; }\nexit \$rc\n";
	close($fh) or die "$slow: $!";
	chmod(0755, $slow) or die "$slow: $!";
}
restart(conf => { job_timeout => 3, build_wrapper => $slow });
$t->part('timeout', sub {
	hold();
	my $h = post_new('timeout');
	my $fail = $t->wait_build($h, timeout => 90);
	left_queue('timeout', $h);
	is($fail->{status}, 500, 'timeout: the build fails');
	like($fail->{json}{detail} // '',
	    qr/^Error: Build timed out after 3 seconds?/,
	    'timeout: and says why') or diag($fail->{json}{detail});
	gone('timeout', $h);
	diag("timeout: detail '" . ($fail->{json}{detail} // '')
	    . "', end of stderr:\n" . err_tail($fail));
	release();
	retried('timeout', 'timeout', $fail);
});
restart(conf => { build_wrapper => $slow });

# 4. An operator's scancel: a server-side failure naming Slurm's reason.
# The step cleans up slowly as above.
$t->part('scancel', sub {
	hold();
	my $h = post_new('scancel');
	my $id = wait_step($h);
	ok($id, 'scancel: the build runs as a cluster job')
	    or diag($c->run('squeue'));
	$c->run('scancel', $id) if $id;
	my $fail = $t->wait_build($h, timeout => 90);
	left_queue('scancel', $h);
	is($fail->{status}, 500, 'scancel: the build fails');
	like($fail->{json}{detail} // '', qr/^Error: Build lost: Slurm /,
	    'scancel: as lost by Slurm') or diag($fail->{json}{detail});
	# Slurm's CANCELLED line, or only srun's "task 0: Terminated" when
	# srun has the task's end first (a loaded machine).
	like($fail->{json}{detail} // '', qr/cancel|task 0: Terminated/i,
	    'scancel: naming the cancellation');
	gone('scancel', $h);
	diag("scancel: detail '" . ($fail->{json}{detail} // '')
	    . "', end of stderr:\n" . err_tail($fail));
	release();
	retried('scancel', 'scancel', $fail);
});
restart();

# 5. A stop of asud during a build cancels its job before asud exits;
# the build runs again at the next start.
$t->part('stop', sub {
	hold();
	my $h = post_new('stop');
	ok(wait_step($h), 'stop: the build runs as a cluster job');
	is($t->stop, 0, 'stop: asud stops cleanly');
	ok(!cjobs($h), 'stop: its job is no longer in squeue')
	    or diag($c->run('squeue'));
	$t->start;
	release();
	my $r = $t->wait_build($h, timeout => 90);
	is($r->{status}, 200, 'stop: the build ran again after the start')
	    or diag($r->{json}{detail});
	gone('stop', $h);
});

# 6. The asud machine crashes during a build: asud and its sruns die
# at once (kill -9; the sruns are stopped first, so that no signal asud's
# death sends them is forwarded), the job stays in the cluster with its
# step running on the node. The restart on the same state directory
# cancels it and builds again.
$t->part('crash', sub {
	hold();
	my $h = post_new('crash');
	my $id = wait_step($h) // '';
	ok($id, 'crash: the build runs as a cluster job');
	my $name = jobname($h);
	my @sruns = map { $_->[0] } grep { $_->[2] =~ /\Q$name\E/ }
	    $c->sruns;
	ok(@sruns, 'crash: through srun');
	kill('STOP', @sruns);
	$t->kill9;
	kill('KILL', @sruns);
	ok(SlurmTest::wait_for(10, sub {
		!grep { SlurmTest::slurp("/proc/$_/comm") eq "srun\n" } @sruns }),
	    'crash: asud and its sruns are gone');
	sleep 1;
	ok(grep({ $_->[0] eq $id && $_->[2] eq 'RUNNING' } cjobs($h)),
	    'crash: its job is left RUNNING in the cluster')
	    or diag($c->run('squeue'));
	$t->start;
	ok(SlurmTest::wait_for(30, sub {
		!grep { $_->[0] eq $id } $c->jobs('asud-') }),
	    'crash: after the restart no job of the old instance is left')
	    or diag($c->run('squeue'));
	release();
	my $r = $t->wait_build($h, timeout => 90);
	is($r->{status}, 200, 'crash: the build ran again and finished')
	    or diag($r->{json}{detail});
	images_ok($r, 'crash');
	gone('crash', $h);
	my @lines = grep { /slurm|scancel|leftover/i } split /\n/,
	    $t->log_text;
	diag("crash: asud said:\n" . join('', map { "  $_\n" } @lines[
	    ($#lines > 6 ? $#lines - 6 : 0) .. $#lines]));
});

# 7. The node is lost during a build: a clear failure, asud serves on.
$t->part('node', sub {
	hold();
	my $h = post_new('node');
	ok(wait_step($h), 'node: the build runs as a cluster job');
	$c->lose_node;
	my $served = 0;
	my $fail;
	my ($t0, $says) = (time, '');
	SlurmTest::wait_for(90, sub {
		$served++ if $t->get('/json/v1/overview.json')->{status}
		    == 200;
		$fail = $t->get("/api/v1/build/$h");
		# What the cluster says meanwhile, for a failure's report.
		my $now = sprintf("%s; %s", $c->node_state, join(' ',
		    map { "$_->[0]:$_->[2]" } cjobs($h)));
		$says .= sprintf("  %.1f s: %s\n", time - $t0, $now)
		    unless $says =~ /\Q: $now\E\n\z/;
		return $fail->{status} != 202;
	});
	diag("node: the node and the job after the loss:\n$says");
	ok($served, 'node: asud answered while the node was lost');
	is($fail->{status}, 500, 'node: the build fails');
	like($fail->{json}{detail} // '', qr/^Error: Build lost: Slurm /,
	    'node: as lost by Slurm') or diag($fail->{json}{detail});
	like($fail->{json}{detail} // '', qr/node/i,
	    'node: naming the node failure');
	my $ov = $t->get('/api/v1/overview');
	ok($ov->{status} =~ /^(?:200|30[1278])$/
	    && $t->get('/json/v1/overview.json')->{status} == 200,
	    'node: GET /api/v1/overview answers');
	diag("node: detail '" . ($fail->{json}{detail} // '')
	    . "', end of stderr:\n" . err_tail($fail));
	ok($c->start_slurmd, 'node: slurmd starts again');
	gone('node', $h);
	release();
	retried('node', 'node', $fail);
});

# 8. Time from POST to 200, through Slurm and with the local runner, on
# the same selection (printed, not asserted: it depends on the machine).
$t->part('measure', sub {
	my %took;
	for my $runner (qw(slurm local)) {
		restart(conf => { build_runner => $runner });
		for my $i (1 .. 3) {
			my $t0 = time;
			my $r = $t->build(req("measure $runner $i"),
			    timeout => 90);
			push @{ $took{$runner} }, time - $t0;
			is($r->{status}, 200, "measure: $runner build $i")
			    or diag($r->{json}{detail});
		}
	}
	my $fmt = sub {
		my @s = @{ $_[0] };
		my $sum = 0;
		$sum += $_ for @s;
		return sprintf('%s s, mean %.2f s',
		    join(' ', map { sprintf('%.2f', $_) } @s), $sum / @s);
	};
	diag('POST to 200 (stand-in at time scale 0): slurm '
	    . $fmt->($took{slurm}) . '; local ' . $fmt->($took{local}));
});

ok(SlurmTest::wait_for(30, sub { !$c->jobs('asud-') }),
    'no asud job is left in the cluster');
is($t->stop, 0, 'asud stops cleanly');
$t->check_log_clean;
my $dir = $c->dir;
$c->stop;
is_deeply([$c->procs], [], 'nothing of the cluster is left running')
    or diag(join("\n", map { "@$_" } $c->procs));

done_testing;
