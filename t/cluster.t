#!/usr/bin/perl
# The test cluster itself (t/lib/SlurmTest.pm), before asud is run
# against it: it starts, a step's output comes back and streams live,
# several one-CPU steps run at once, a cancelled job and a lost node end
# their srun with the texts Slurm gives, and nothing of the cluster is
# left running at the end. Slurm not installed is a failure, not a skip:
# ./bootstrap installs it.
use strict;
use warnings;
use POSIX qw(WNOHANG);
use SlurmTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $c = SlurmTest->for_test(cpus => 8);
my $dir = $c->dir;
local @ENV{keys %{ $c->env }} = values %{ $c->env };

is($c->node_state, 'idle', 'its node is idle');
is($c->run('sinfo', '-h', '-o', '%c %P'), "8 asud*\n",
    'the node declares 8 CPUs, in partition asud');

is($c->run('srun', '--quiet', '-N1', 'echo', 'hi'), "hi\n",
    'srun --quiet -N1 echo hi prints hi');
is($c->status, 0, 'and exits 0');
is($c->err, '', 'and says nothing else');

# A step that waits for a file: the test decides when it ends, so that
# "before the end" needs no clock.
sub gate {
	my ($name) = @_;
	return "i=0; while [ ! -e $dir/$name ] && [ \$i -lt 600 ]; do "
	    . "sleep 0.05; i=\$((i+1)); done";
}
sub touch {
	my ($name) = @_;
	open(my $fh, '>', "$dir/$name") or die "$name: $!";
	close($fh);
}

# srun in the background, its output in files.
sub bg {
	my ($tag, @cmd) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', "$dir/$tag.out");
		open(STDERR, '>', "$dir/$tag.err");
		exec(SlurmTest::program('srun'), @cmd) or exit 127;
	}
	return $pid;
}

# Waits for a child; its status, or undef after 60 s.
sub reap {
	my ($pid) = @_;
	my $st;
	SlurmTest::wait_for(60, sub {
		return 0 unless waitpid($pid, WNOHANG) == $pid;
		$st = $?;
		return 1;
	});
	return $st;
}

sub running {
	my ($prefix) = @_;
	return scalar grep { $_->[2] eq 'RUNNING' } $c->jobs($prefix);
}

# Live output: the first line is read while the job still runs.
{
	my $pid = open(my $fh, '-|', SlurmTest::program('srun'), '--quiet',
	    '--job-name=ct-stream', '--', 'sh', '-c',
	    'echo first; ' . gate('stream-go') . '; echo second')
	    // die "srun: $!";
	my $first = <$fh>;
	is($first, "first\n", 'a step\'s first line arrives');
	is(running('ct-stream'), 1, 'while its job is still running');
	touch('stream-go');
	my $rest = do { local $/; <$fh> };
	close($fh);
	is($rest, "second\n", 'then the rest, when the step goes on');
	is($?, 0, 'and srun exits 0');
}

# Four one-CPU steps at once: all four jobs are RUNNING together.
{
	my @pids = map { bg("four$_", '--quiet', "--job-name=ct-four-$_", '--',
	    'sh', '-c', gate('four-go') . "; echo four$_") } 1 .. 4;
	my $n = SlurmTest::wait_for(30, sub { running('ct-four-') == 4 });
	ok($n, 'four jobs are RUNNING at the same moment')
	    or diag($c->run('squeue'));
	touch('four-go');
	my @st = map { reap($_) } @pids;
	is_deeply(\@st, [0, 0, 0, 0], 'and all four end well');
	is(join('', map { SlurmTest::slurp("$dir/four$_.out") } 1 .. 4),
	    "four1\nfour2\nfour3\nfour4\n", 'each with its output');
}

# A step's exit status is srun's, and srun adds a line of its own.
{
	$c->run('srun', '--quiet', '--job-name=ct-exit', '--', 'sh', '-c',
	    'echo out; echo err >&2; exit 3');
	is($c->status >> 8, 3, 'a step exiting 3 makes srun exit 3');
	my $err = $c->err;
	like($err, qr/^err$/m, 'its stderr comes back');
	like($err, qr/^srun: error: \Q${\ $c->host }\E: task 0: Exited with exit code 3$/m,
	    'and srun says which task failed');
	diag("srun stderr, step exit 3:\n$err");
}

# scancel by an operator ends srun with a failure and Slurm's words.
{
	my $pid = bg('cancel', '--quiet', '--job-name=ct-cancel', '--',
	    'sleep', '300');
	ok(SlurmTest::wait_for(30, sub { running('ct-cancel') == 1 }),
	    'a job to cancel runs');
	my ($job) = $c->jobs('ct-cancel');
	$c->run('scancel', $job->[0]);
	is($c->status, 0, 'scancel accepts it');
	my $st = reap($pid);
	ok(defined $st && $st != 0, 'its srun ends with a failure')
	    or diag('status ' . ($st // 'none'));
	my $err = SlurmTest::slurp("$dir/cancel.err");
	# The step daemon's CANCELLED line, or, when srun has the task's end
	# before that line (seen on a loaded machine), only its own words.
	like($err, qr/\*\*\* STEP $job->[0]\.0 ON \S+ CANCELLED AT \S+ \*\*\*|^srun: error: \S+: task 0: Terminated$/m,
	    'stderr has Slurm\'s words for the cancel');
	diag(sprintf("srun on scancel: status %d (exit %d, signal %d), "
	    . "stderr:\n%s", $st // -1, ($st // 0) >> 8, ($st // 0) & 127,
	    $err));
}

# SIGTERM to srun (what a stop of asud sends down): the job ends too.
# srun forwards a signal only once the step runs: one that comes while
# the job is RUNNING in squeue but its step is still being launched is
# lost (seen with Slurm 22.05), so the test waits for the step's output.
{
	my $pid = bg('term', '--quiet', '--job-name=ct-term', '--', 'sh',
	    '-c', 'echo started; sleep 300');
	ok(SlurmTest::wait_for(30,
	    sub { SlurmTest::slurp("$dir/term.out") ne '' }),
	    'a step for SIGTERM runs');
	kill('TERM', $pid);
	my $st = reap($pid);
	# Mostly a failure (killed), but srun may also exit 0 saying "Timed
	# out waiting for job step to complete" on a loaded machine: asud
	# knows itself why it stopped a step, so only the end counts.
	ok(defined $st, 'srun ends on SIGTERM');
	ok(SlurmTest::wait_for(30, sub { !$c->jobs('ct-term') }),
	    'and its job leaves the queue');
	diag(sprintf("srun on SIGTERM: status %d (exit %d, signal %d), "
	    . "stderr:\n%s", $st // -1, ($st // 0) >> 8, ($st // 0) & 127,
	    SlurmTest::slurp("$dir/term.err")));
}

# The node is lost: srun ends with Slurm's node failure text; the node
# comes back when slurmd starts again.
{
	my $pid = bg('lost', '--quiet', '--job-name=ct-lost', '--', 'sh',
	    '-c', 'echo started; sleep 300');
	ok(SlurmTest::wait_for(30, sub { running('ct-lost') == 1 }),
	    'a job on the node to lose runs');
	my ($job) = $c->jobs('ct-lost');
	SlurmTest::wait_for(30,
	    sub { SlurmTest::slurp("$dir/lost.out") ne '' });
	$c->lose_node;
	ok(!grep({ $_->[1] eq 'slurmd' || $_->[1] eq 'slurmstepd' }
	    $c->procs), 'slurmd and the step daemon are gone');
	my $st = reap($pid);
	ok(defined $st, 'srun ends when the node is lost');
	my $err = SlurmTest::slurp("$dir/lost.err");
	like($err, qr/^srun: error: Node failure on \S+$/m,
	    'srun says the node failed');
	my $state = $c->run('squeue', '-h', '-t', 'all', '-j', $job->[0],
	    '-o', '%T %r');
	like($state, qr/^NODE_FAIL /, 'Slurm records the job as NODE_FAIL');
	diag(sprintf("srun on a lost node: status %d (exit %d, signal %d), "
	    . "stderr:\n%s", $st // -1, ($st // 0) >> 8, ($st // 0) & 127,
	    $err) . "squeue -t all: $state");
	ok($c->start_slurmd, 'slurmd starts again');
	is($c->run('srun', '--quiet', 'echo', 'back'), "back\n",
	    'and the node runs steps again');
}

# A job that just ended may stay COMPLETING for a moment.
ok(SlurmTest::wait_for(30, sub { !$c->jobs('') }),
    'no job is left in the queue')
    or diag(join("\n", map { "@$_" } $c->jobs('')));

my $left = $dir;
$c->stop;
my @procs = $c->procs;
is_deeply(\@procs, [], 'after stop no process of the cluster is left')
    or diag(join("\n", map { "@$_" } @procs));
open(my $pg, '-|', 'pgrep', '-a', '-f', "$left/") or die "pgrep: $!";
is(do { local $/; <$pg> } // '', '',
    'pgrep finds no process naming its directory');
close($pg);

done_testing;
