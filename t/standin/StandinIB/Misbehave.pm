#
# StandinIB::Misbehave: the misbehaviours tests ask for with
# STANDIN_MISBEHAVE (comma-separated words): processes left behind, huge or
# silent logs, writes outside the build, odd files in BIN_DIR.
#
package StandinIB::Misbehave;

use v5.36;

use Exporter qw(import);
use StandinIB::Target;
use StandinIB::Util;

our @EXPORT = qw(misbehave);

# Detaches from the build's pipes, names itself (for /proc) and sleeps.
sub misbehave_linger ($name) {
	open(STDIN, '<', '/dev/null');
	open(STDOUT, '>', '/dev/null');
	open(STDERR, '>', '/dev/null');
	$0 = "standin-$name $TOP";
	sleep 300;
	hard_exit(0);
}

# `background`: leaves a sleeping child behind and goes on.
sub misbehave_background ($arg) {
	my $pid = fork() // die "standin-ib: fork: $!\n";

	misbehave_linger('background') if $pid == 0;
	print "standin: left process $pid in the background\n";
}

# `setsid`: leaves a child behind in a session of its own.
sub misbehave_setsid ($arg) {
	my $pid = fork() // die "standin-ib: fork: $!\n";

	if ($pid == 0) {
		require POSIX;
		POSIX::setsid();
		misbehave_linger('setsid');
	}
	print "standin: left process $pid in a new session\n";
}

# `escape=PATH`: tries to write PATH; says how it went and goes on.
sub misbehave_escape ($path) {
	my $fh;

	if (open($fh, '>', $path) && print($fh "escaped\n") && close($fh)) {
		print "standin: wrote $path\n";
	} else {
		print "standin: cannot write $path: $!\n";
	}
}

# `hold=PATH`: while PATH exists the build stands still (running, its
# phase unchanged, printing nothing), 10 minutes at most (so that a test
# that died leaves nothing behind for long). In a sandbox PATH must be
# where the build can see it: in the ImageBuilder's directory.
sub misbehave_hold ($path) {
	my $left = 600 / 0.05;

	nap(0.05) while -e $path && --$left > 0;
}

# `longline=N`: one line of N bytes with no newline until its end, printed
# in pieces as a slow tool would.
sub misbehave_longline ($arg) {
	my $n = ($arg // '') =~ /^(\d+)$/ ? $1 : die "standin-ib: longline=N\n";
	my $piece = 'x' x 65536;

	while ($n > 0) {
		my $k = $n < length $piece ? $n : length $piece;
		print substr($piece, 0, $k);
		$n -= $k;
	}
	print "\n";
}

# `biglog=N`: about N bytes of numbered log lines (a long, finished log).
sub misbehave_biglog ($arg) {
	my $n = ($arg // '') =~ /^(\d+)$/ ? $1 : die "standin-ib: biglog=N\n";
	my $i = 0;

	while ($n > 0) {
		my $block = join('', map { sprintf("standin: log line %09d of "
		    . "a long build, words to compress %x\n", $_,
		    $_ * 2654435761 % 4093) } $i .. $i + 1023);
		$i += 1024;
		$block = substr($block, 0, $n) if length $block > $n;
		print $block;
		$n -= length $block;
	}
}

# `silence=S`: prints nothing for S seconds.
sub misbehave_silence ($arg) {
	my $s = ($arg // '') =~ /^(\d+(?:\.\d+)?)$/ ? $1 :
	    die "standin-ib: silence=S\n";

	nap($s);
}

# `fifo`: a FIFO, a socket and a symlink to /etc/passwd in BIN_DIR, next to
# the images, as a hostile or broken ImageBuilder might leave them.
sub misbehave_fifo ($arg) {
	require POSIX;
	require IO::Socket::UNIX;
	require Cwd;
	my $bin = bin_dir();
	my $back = Cwd::getcwd();

	POSIX::mkfifo("$bin/standin.fifo", 0644)
	    or die "standin-ib: mkfifo: $!\n";
	symlink('/etc/passwd', "$bin/standin.passwd")
	    or die "standin-ib: symlink: $!\n";
	# A socket's path is short: bind it by its name inside BIN_DIR.
	chdir($bin) or die "standin-ib: cannot enter $bin: $!\n";
	IO::Socket::UNIX->new(Local => 'standin.sock', Listen => 1)
	    or die "standin-ib: socket: $!\n";
	chdir($back) or die "standin-ib: cannot enter $back: $!\n";
	print "standin: left a FIFO, a socket and a symlink in BIN_DIR\n";
}

# The misbehaviours by their word in STANDIN_MISBEHAVE.
my %MISBEHAVE = (
	biglog		=> \&misbehave_biglog,
	longline	=> \&misbehave_longline,
	silence		=> \&misbehave_silence,
	background	=> \&misbehave_background,
	setsid		=> \&misbehave_setsid,
	escape		=> \&misbehave_escape,
	hold		=> \&misbehave_hold,
	fifo		=> \&misbehave_fifo,
);

# Runs the misbehaviours STANDIN_MISBEHAVE names; unknown words are ignored.
sub misbehave {
	for my $word (split /,/, $ENV{STANDIN_MISBEHAVE} // '') {
		my ($name, $arg) = split /=/, $word, 2;
		$MISBEHAVE{$name}->($arg) if $MISBEHAVE{$name};
	}
}

1;
