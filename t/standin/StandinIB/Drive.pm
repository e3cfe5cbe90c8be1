#
# StandinIB::Drive: `make image` and `make manifest`. The build driver
# takes the lock of the ImageBuilder directory and runs the sub-makes of the
# real ImageBuilder in order.
#
package StandinIB::Drive;

use v5.36;

use StandinIB::Util;
use StandinIB::Target;

my $LOCK;		# the lock directory this process holds
my $FLOCK;		# the open lock file whose flock this process holds
my $CHILD;		# the sub-make the driver waits for

# Removes the lock if this process holds it.
sub lock_release {
	my $pid;

	return unless $LOCK;
	$pid = slurp("$LOCK/pid") // '';
	remove_tree($LOCK) if $pid =~ /^\s*$$(?:\s+flock)?\s*$/;
	$LOCK = undef;
	close($FLOCK) if $FLOCK;
	$FLOCK = undef;
}

# Takes the kernel's lock on <IB>/tmp/.standin-lock.flock, which dies with
# its holder in any PID namespace (a sandboxed build's pids mean nothing
# to the next build); returns 0 when another driver holds it.
sub lock_flock {
	require Fcntl;
	open($FLOCK, '>>', "$TOP/tmp/.standin-lock.flock")
	    or die "standin-ib: cannot open the lock file: $!\n";
	return 1 if flock($FLOCK, Fcntl::LOCK_EX() | Fcntl::LOCK_NB());
	close($FLOCK);
	$FLOCK = undef;
	return 0;
}

# Whether a process id is alive (EPERM counts as alive, a zombie does
# not: it has exited and only waits to be reaped).
sub pid_alive ($pid) {
	my $stat;

	return 0 unless $pid =~ /^\d+$/ && $pid > 0;
	return 0 unless kill(0, $pid) || $!{EPERM};
	$stat = slurp("/proc/$pid/stat");
	return 0 if defined $stat && $stat =~ /\)\s+[ZX]\s/;
	return 1;
}

# Whether the holder of the lock stays alive for a short grace period: a
# build whose process group was just killed takes a moment to go away,
# while a build that really runs at the same time holds on much longer.
sub pid_holds ($pid) {
	for (1 .. 10) {
		return 0 unless pid_alive($pid);
		nap(0.03);
	}
	return pid_alive($pid);
}

# Takes <IB>/tmp/.standin-lock, taking over a stale one; returns the pid
# of the live holder when the directory is in use.
sub lock_take {
	my $lock = "$TOP/tmp/.standin-lock";
	my $mine = "$lock.new$$";
	my ($pid, $stale);

	make_path("$TOP/tmp");
	if (!lock_flock()) {
		$pid = (split ' ', slurp("$lock/pid") // '')[0];
		return $pid // '?';
	}
	for (1 .. 5) {
		remove_tree($mine);
		mkdir($mine) or die "standin-ib: cannot create $mine: $!\n";
		spew("$mine/pid", "$$ flock\n");
		if (rename($mine, $lock)) {
			$LOCK = $lock;
			return 0;
		}
		remove_tree($mine);
		my ($tag);
		($pid, $tag) = split ' ', slurp("$lock/pid") // '';
		$pid //= '';
		if ($pid eq '') {
			# Its owner has not written the pid yet.
			nap(0.05);
			next;
		}
		# A driver's lock is stale once we hold the flock; another
		# (by hand, an older stand-in) is judged by its pid.
		return $pid if ($tag // '') ne 'flock' && pid_holds($pid);
		$stale = "$lock.stale$$";
		next unless rename($lock, $stale);
		my ($check, $ctag) = split ' ', slurp("$stale/pid") // '';
		$check //= '';
		if (($ctag // '') ne 'flock' && pid_alive($check)) {
			rename($stale, $lock);
			return $check;
		}
		remove_tree($stale);
	}
	die "standin-ib: cannot take the lock $lock\n";
}

# Runs make with the given arguments and returns its exit code.
sub run_make (@args) {
	my $make = $ENV{STANDIN_MAKE} || 'make';
	my $pid = fork();

	die "standin-ib: fork: $!\n" unless defined $pid;
	if ($pid == 0) {
		exec($make, @args) or hard_exit(127);
	}
	$CHILD = $pid;
	while (waitpid($pid, 0) == -1) {
		last unless $!{EINTR};
	}
	$CHILD = undef;
	return $? & 127 ? 128 + ($? & 127) : $? >> 8;
}

# `make image` and `make manifest`: takes the directory lock, then runs the
# sub-makes of the real ImageBuilder in order.
sub step_drive ($goal = 'image') {
	my $holder;

	$holder = lock_take();
	if ($holder) {
		print STDERR "standin: ImageBuilder directory $TOP is already "
		    . "in use by another build (pid $holder)\n";
		return 2;
	}
	for my $sig (qw(TERM INT HUP)) {
		$SIG{$sig} = sub {
			kill('TERM', $CHILD) if $CHILD;
			lock_release();
			hard_exit(128 + ($sig eq 'INT' ? 2 :
			    $sig eq 'HUP' ? 1 : 15));
		};
	}
	$ENV{STANDIN_GOAL} = $goal;
	for my $sub ('_check_profile', '_check_keys', "_call_$goal") {
		if (run_make('-s', $sub) != 0) {
			lock_release();
			return 2;
		}
	}
	lock_release();
	return 0;
}

END {
	lock_release();
}

1;
