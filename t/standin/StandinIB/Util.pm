#
# StandinIB::Util: small helpers of the stand-in ImageBuilder engine:
# paths and files (without the File:: modules, for a fast start), the
# environment, and the simulated time of the steps.
#
package StandinIB::Util;

use v5.36;

use Exporter qw(import);

our @EXPORT = qw(dirname make_path remove_tree walk copy sha256_hex nap
    hard_exit slurp spew env words emit_paced pause budget make_prefix);

# The directory part of a path.
sub dirname ($path) {
	return $path =~ m{^(.*)/[^/]*$} ? (length $1 ? $1 : '/') : '.';
}

# Creates directories and their parents (mkdir -p).
sub make_path (@dirs) {
	for my $d (@dirs) {
		next if -d $d;
		make_path(dirname($d)) if dirname($d) ne $d;
		mkdir($d) or -d $d or die "standin-ib: cannot create $d: $!\n";
	}
}

# Removes files and trees without following symlinks (rm -rf).
sub remove_tree (@paths) {
	for my $p (@paths) {
		next unless lstat($p);
		if (-d _) {
			opendir(my $dh, $p) or next;
			my @e = grep { $_ ne '.' && $_ ne '..' } readdir($dh);
			closedir($dh);
			remove_tree(map { "$p/$_" } @e);
			rmdir($p);
		} else {
			unlink($p);
		}
	}
}

# Every path under a directory (itself included), without following
# symlinks.
sub walk ($dir) {
	my @out = ($dir);
	my $dh;

	return @out if -l $dir || !-d $dir;
	opendir($dh, $dir) or return @out;
	for my $e (sort grep { $_ ne '.' && $_ ne '..' } readdir($dh)) {
		push @out, walk("$dir/$e");
	}
	closedir($dh);
	return @out;
}

# Copies one file.
sub copy ($from, $to) {
	my $data = slurp($from);

	return 0 unless defined $data;
	spew($to, $data);
	return 1;
}

# sha256 in hex.
sub sha256_hex ($data) {
	require Digest::SHA;
	return Digest::SHA::sha256_hex($data);
}

# Sleeps for fractions of a second.
sub nap ($seconds) {
	require Time::HiRes;
	Time::HiRes::sleep($seconds);
}

# Leaves at once (in a child or a signal handler).
sub hard_exit ($code) {
	require POSIX;
	POSIX::_exit($code);
}

# Reads a whole file, or returns undef when it does not exist.
sub slurp ($path) {
	my $fh;

	open($fh, '<:raw', $path) or return undef;
	local $/;
	my $data = <$fh>;
	close($fh);
	return $data // '';
}

# Writes a file through a temporary name, so readers never see half of it.
sub spew ($path, $data) {
	my $tmp = "$path.tmp$$";
	my $fh;

	make_path(dirname($path));
	open($fh, '>:raw', $tmp) or die "standin-ib: cannot write $tmp: $!\n";
	print $fh $data;
	close($fh) or die "standin-ib: cannot write $tmp: $!\n";
	rename($tmp, $path) or die "standin-ib: cannot rename $tmp: $!\n";
}

# The value of an environment variable, undef when unset or blank.
sub env ($name) {
	my $v = $ENV{$name};

	return undef unless defined $v;
	$v =~ s/^\s+|\s+$//g;
	return length($v) ? $v : undef;
}

# Splits a make-style word list.
sub words ($s) {
	return () unless defined $s;
	return grep { length } split(/\s+/, $s);
}

# The time scale for the simulated durations.
sub time_scale {
	my $s = $ENV{STANDIN_TIME_SCALE};

	return 1.0 unless defined $s && $s =~ /^\s*([0-9]*\.?[0-9]+)\s*$/;
	return $1 + 0;
}

# Prints lines (each [handle, text]) spread over budget seconds.
sub emit_paced ($budget, @lines) {
	my $pause = @lines ? $budget * time_scale() / @lines : 0;

	for my $l (@lines) {
		my ($fh, $text) = @$l;
		print {$fh} $text, "\n";
		nap($pause) if $pause > 0;
	}
	if (!@lines && $budget > 0) {
		my $t = $budget * time_scale();
		nap($t) if $t > 0;
	}
}

# Sleeps for a share of a simulated duration.
sub pause ($seconds) {
	my $t = $seconds * time_scale();

	nap($t) if $t > 0;
}

# The seconds a phase takes in `make manifest` or in `make image`.
sub budget ($manifest, $image) {
	return ($ENV{STANDIN_GOAL} // '') eq 'manifest' ? $manifest : $image;
}

# The "make[N]" prefix the make running this step uses in its messages.
sub make_prefix {
	my $level = ($ENV{MAKELEVEL} // 1) - 1;

	return $level > 0 ? "make[$level]" : 'make';
}

1;
