# SlurmTest: a private single-node Slurm cluster for a test, in a
# directory of its own: munged with its own key and socket, slurmctld and
# slurmd on free ports, a slurm.conf written here, all run as children of
# the test and all stopped at the end.
#
#   my $c = SlurmTest->new(dir => $dir, cpus => 8);  # dies with the logs
#   my $c = SlurmTest->for_test(cpus => 8);  # or ends the test file
#   local @ENV{keys %{ $c->env }} = values %{ $c->env };
#   my $out = $c->run('srun', '--quiet', 'echo', 'hi');
#   my @jobs = $c->jobs('asud-');      # [id, name, state] of live jobs
#   $c->lose_node;                     # the node's machine is gone
#   $c->start_slurmd;                  # and comes back
#   $c->stop;                          # nothing of the cluster is left
#
# The node declares `cpus` CPUs whatever the machine has
# (SlurmdParameters=config_overrides) and each CPU is a unit of
# scheduling (CR_CPU), so that many one-CPU steps run at once. Its
# timeouts are low so that a lost node is seen in seconds.
#
# munged insists that every directory above its socket be searchable by
# everyone: the cluster's directory is made mode 0711, and so must its
# parents be (a directory of File::Temp under /tmp is; one inside
# AsudTest's 0700 directory is not).
package SlurmTest;

use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Sys::Hostname;
use Test::More;
use TestFile;
use Time::HiRes qw(sleep time);

# The programs the cluster needs, found on PATH or in the sbin
# directories (which a non-root PATH often lacks).
our @PROGRAMS = qw(slurmctld slurmd srun squeue sinfo scancel scontrol
    munged mungekey);
# The names /proc gives the cluster's daemons.
our @DAEMONS = qw(slurmctld slurmd slurmstepd munged slurmscriptd);

sub program {
	my ($name) = @_;
	for my $d (split(/:/, $ENV{PATH} // ''), qw(/usr/sbin /usr/bin /sbin
	    /bin /usr/local/sbin /usr/local/bin)) {
		return "$d/$name" if length $d && -x "$d/$name";
	}
	return undef;
}

# Whether Slurm and munge are installed ('' when they are, else what
# is missing).
sub missing {
	return join(' ', grep { !defined program($_) } @PROGRAMS);
}
sub available { missing() eq '' }

# The shared helpers, under this module's names too.
*free_port = \&TestFile::free_port;
*spew = \&TestFile::spew;
*slurp = \&TestFile::slurp;

# The last lines of a file, for a diagnostic.
sub tail {
	my ($path, $n) = @_;
	my @l = split /\n/, slurp($path);
	splice(@l, 0, @l - $n) if @l > $n;
	return join('', map { "  $_\n" } @l);
}

# A test's cluster: checks that Slurm and munge are installed and that the
# cluster starts (two checks of the test's), and returns it; when either
# fails, the test ends there (done_testing) with what is missing.
sub for_test {
	my ($class, %o) = @_;
	ok(available(), 'Slurm and munge are installed')
	    or diag('missing: ' . missing()
	    . ' (./bootstrap installs slurm-wlm and munge)');
	my $c = available() ? eval { $class->new(%o) } : undef;
	if (available()) {
		ok($c, 'the cluster starts') or diag($@);
	}
	return $c if $c;
	done_testing();
	exit;
}

sub new {
	my ($class, %o) = @_;
	my $dir = $o{dir} // tempdir('asud-slurm-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$ENV{ASUD_KEEP});
	my $missing = missing();
	die "SlurmTest: not installed: $missing (./bootstrap installs "
	    . "slurm-wlm and munge)\n" if $missing ne '';
	mkdir $dir;
	chmod(0711, $dir) or die "chmod $dir: $!";
	mkdir "$dir/$_" for qw(state spool);
	(my $host = hostname()) =~ s/\..*//;
	my $self = bless {
		dir => $dir,
		cpus => $o{cpus} // 8,
		host => $host,
		conf => "$dir/slurm.conf",
		pids => {},
		cluster => $o{name} // 'asudtest',
		extra => $o{extra} // '',
	}, $class;
	$self->start_munged;
	for my $try (1 .. 5) {
		$self->write_conf;
		return $self if $self->start_slurm;
		# A port found free may be another test's by now.
		$self->stop_daemon($_) for qw(slurmd slurmctld);
	}
	my $why = $self->logs;
	$self->stop;
	die "SlurmTest: the cluster did not come up:\n$why";
}

sub dir { $_[0]{dir} }
sub conf { $_[0]{conf} }
sub host { $_[0]{host} }
sub cpus { $_[0]{cpus} }
sub partition { 'asud' }

# What a client of this cluster needs in its environment.
sub env { return { SLURM_CONF => $_[0]{conf} } }

# The tails of the daemons' logs, for a diagnostic.
sub logs {
	my ($self) = @_;
	my $d = $self->{dir};
	return join('', map { -s "$d/$_" ? "$_:\n" . tail("$d/$_", 15) : '' }
	    qw(munged.log slurmctld.log slurmd.log slurmctld.out slurmd.out
	    munged.out));
}

# Forks a daemon with the cluster's environment, its output to
# $dir/NAME.out.
sub spawn {
	my ($self, $name, @cmd) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		$ENV{SLURM_CONF} = $self->{conf};
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$self->{dir}/$name.out");
		open(STDERR, '>&', \*STDOUT);
		# A session of its own: a ^C at the terminal reaches the
		# test, which stops the cluster.
		POSIX::setsid();
		exec(@cmd) or exit 127;
	}
	$self->{pids}{$name} = $pid;
	return $pid;
}

# Waits until code returns true, at most secs; returns its last value.
sub wait_for {
	my ($secs, $code) = @_;
	my $deadline = time + $secs;
	my $r;
	until (($r = $code->()) || time > $deadline) {
		sleep 0.1;
	}
	return $r;
}

# munged with a key, socket, pid, log and seed file of the cluster's.
sub start_munged {
	my ($self) = @_;
	my $d = $self->{dir};
	unless (-f "$d/munge.key") {
		system(program('mungekey'), '-c', '-k', "$d/munge.key") == 0
		    or die "SlurmTest: mungekey failed\n";
	}
	chmod(0400, "$d/munge.key");
	$self->{socket} = "$d/munge.socket";
	my $pid = $self->spawn('munged', program('munged'), '-F',
	    "--socket=$self->{socket}", "--key-file=$d/munge.key",
	    "--pid-file=$d/munged.pid", "--log-file=$d/munged.log",
	    "--seed-file=$d/munged.seed");
	my $up = wait_for(15, sub {
		return -1 if waitpid($pid, WNOHANG) == $pid;
		return -S $self->{socket} ? 1 : 0;
	});
	return if $up == 1;
	delete $self->{pids}{munged} if $up == -1;
	my $why = $self->logs;
	$self->stop;
	die "SlurmTest: munged did not start:\n$why";
}

sub write_conf {
	my ($self) = @_;
	my ($d, $h) = ($self->{dir}, $self->{host});
	$self->{ctld_port} = free_port();
	do { $self->{d_port} = free_port() }
	    while $self->{d_port} == $self->{ctld_port};
	spew($self->{conf}, <<"EOF");
# written by SlurmTest: a single-node cluster of one test
ClusterName=$self->{cluster}
SlurmctldHost=$h(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$self->{ctld_port}
SlurmdPort=$self->{d_port}
AuthType=auth/munge
AuthInfo=socket=$self->{socket}
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SlurmdTimeout=3
MessageTimeout=5
TCPTimeout=2
InactiveLimit=0
KillWait=2
MinJobAge=30
ReturnToService=2
$self->{extra}
NodeName=$h NodeAddr=127.0.0.1 CPUs=$self->{cpus} State=UNKNOWN
PartitionName=asud Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

# The node's state as sinfo gives it ('idle', 'mixed', 'down*', ...).
sub node_state {
	my ($self) = @_;
	my $s = $self->run(program('sinfo'), '-h', '-o', '%T');
	$s =~ s/\s+\z//;
	return $s;
}

# slurmctld and slurmd, then waits until the node is idle; 1 when it is.
sub start_slurm {
	my ($self) = @_;
	$self->spawn('slurmctld', program('slurmctld'), '-D', '-f',
	    $self->{conf});
	return 0 unless $self->start_slurmd;
	return 1;
}

# Starts slurmd (again) and waits until the node takes jobs.
sub start_slurmd {
	my ($self) = @_;
	$self->spawn('slurmd', program('slurmd'), '-D', '-f', $self->{conf});
	my $ok = wait_for(30, sub {
		for my $n (qw(slurmctld slurmd)) {
			my $p = $self->{pids}{$n} or return -1;
			if (waitpid($p, WNOHANG) == $p) {
				delete $self->{pids}{$n};
				return -1;
			}
		}
		return $self->node_state =~ /^(?:idle|mixed|allocated)$/
		    ? 1 : 0;
	});
	return 1 if $ok == 1;
	diag("SlurmTest: the node did not come up (state '"
	    . $self->node_state . "'):\n" . $self->logs);
	return 0;
}

# Stops one daemon of the cluster: TERM, then KILL after 15 s.
sub stop_daemon {
	my ($self, $name, $sig) = @_;
	my $pid = delete $self->{pids}{$name} or return;
	kill($sig // 'TERM', $pid);
	my $gone = wait_for(15, sub { waitpid($pid, WNOHANG) == $pid });
	return if $gone;
	kill('KILL', $pid);
	waitpid($pid, 0);
}

# slurmd stopped the ordinary way (its steps keep running).
sub stop_slurmd { $_[0]->stop_daemon('slurmd') }

# The node's machine is gone: slurmd, the step daemons and the steps'
# processes end at once, as a power loss would. They are all stopped
# before any is killed (looking again until no new one turns up): killed
# one by one, a step daemon or a make that outlived its child by a moment
# would report the death, which no lost machine does.
sub lose_node {
	my ($self) = @_;
	$self->stop_daemon('slurmd', 'KILL');
	my $node = sub {
		map { $_->[0] }
		grep { $_->[1] !~ /^(?:slurmctld|slurmscriptd|munged)$/ }
		    $self->procs;
	};
	my %stopped;
	wait_for(10, sub {
		my @new = grep { !$stopped{$_} } $node->();
		kill('STOP', @new) if @new;
		$stopped{$_} = 1 for @new;
		return !@new;
	});
	kill('KILL', keys %stopped) if %stopped;
	wait_for(10, sub { !$node->() });
}

# The processes of this cluster still alive: [pid, name, command, job
# name] of its daemons (named by /proc, no job name) and of its jobs'
# tasks (the processes a step runs). Both are known by
# their environment, which names this cluster's slurm.conf (a daemon
# passes it on to the step daemons and they to the tasks), munged by its
# command line.
sub procs {
	my ($self) = @_;
	my @found;
	opendir(my $dh, '/proc') or return;
	for my $pid (grep { /^\d+$/ } readdir($dh)) {
		next if $pid == $$;
		my $comm = slurp("/proc/$pid/comm");
		chomp($comm);
		my $cmd = slurp("/proc/$pid/cmdline");
		next if $cmd eq '';	# a zombie or a kernel thread
		my $env = "\0" . slurp("/proc/$pid/environ");
		my $ours = index($env, "\0SLURM_CONF=$self->{conf}\0") >= 0;
		my $daemon = grep { $comm eq $_ || $cmd =~ /^:? ?\Q$_\E/ }
		    @DAEMONS;
		my $task = $ours && index($env, "\0SLURM_JOB_ID=") >= 0;
		my $munged = $comm eq 'munged'
		    && index($cmd, "=$self->{dir}/") >= 0;
		next unless ($daemon && $ours) || $task || $munged;
		$cmd =~ tr/\0/ /;
		my ($job) = $task ? $env =~ /\0SLURM_JOB_NAME=([^\0]*)/ : ();
		push @found, [$pid, $comm, $cmd, $job // ''];
	}
	closedir($dh);
	return @found;
}

# The processes of the steps of jobs whose name begins with prefix.
sub tasks {
	my ($self, $prefix) = @_;
	return grep { $_->[3] ne '' && index($_->[3], $prefix) == 0 }
	    $self->procs;
}

# The srun processes of this cluster's clients (asud's, the test's):
# [pid, parent pid, command].
sub sruns {
	my ($self) = @_;
	my @found;
	opendir(my $dh, '/proc') or return;
	for my $pid (grep { /^\d+$/ } readdir($dh)) {
		my $comm = slurp("/proc/$pid/comm");
		next unless $comm eq "srun\n";
		my $env = "\0" . slurp("/proc/$pid/environ");
		next unless index($env, "\0SLURM_CONF=$self->{conf}\0") >= 0;
		my ($ppid) = slurp("/proc/$pid/status") =~ /^PPid:\s+(\d+)/m;
		(my $cmd = slurp("/proc/$pid/cmdline")) =~ tr/\0/ /;
		push @found, [$pid, $ppid // 0, $cmd];
	}
	closedir($dh);
	return @found;
}

# Runs a client command of the cluster; returns its standard output
# (its error output and status are in ->{err}, ->{status}).
sub capture {
	my ($self, @cmd) = @_;
	my $errf = "$self->{dir}/client.err";
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		$ENV{SLURM_CONF} = $self->{conf};
		open(STDIN, '<', '/dev/null');
		open(STDERR, '>', $errf);
		exec(@cmd) or exit 127;
	}
	local $/;
	my $out = <$fh> // '';
	close($fh);
	$self->{status} = $?;
	$self->{err} = slurp($errf);
	return $out;
}

sub run {
	my ($self, $cmd, @args) = @_;
	return $self->capture(program($cmd) // $cmd, @args);
}
sub status { $_[0]{status} }
sub err { $_[0]{err} }

# The live jobs whose name begins with prefix: [id, name, state].
sub jobs {
	my ($self, $prefix) = @_;
	$prefix //= '';
	my $out = $self->run('squeue', '-h', '-o', '%i %j %T');
	return map { [split / /, $_, 3] }
	    grep { /^\d+ \Q$prefix\E\S* \S+$/ } split /\n/, $out;
}

# Cancels every job, then stops the daemons; afterwards nothing of the
# cluster runs.
sub stop {
	my ($self) = @_;
	return if $self->{stopped}++;
	if ($self->{pids}{slurmctld} && $self->{pids}{slurmd}) {
		my @ids = map { $_->[0] } $self->jobs('');
		$self->run('scancel', @ids) if @ids;
		wait_for(10, sub { !$self->jobs('') });
	}
	$self->stop_daemon($_) for qw(slurmd slurmctld);
	# Step daemons of a killed slurmd, tasks they left.
	my @left = grep { $_->[1] ne 'munged' } $self->procs;
	kill('KILL', map { $_->[0] } @left) if @left;
	$self->stop_daemon('munged');
	wait_for(10, sub { !$self->procs });
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	$self->stop;
}

1;
