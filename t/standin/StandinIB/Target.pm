#
# StandinIB::Target: what the engine knows of its ImageBuilder: the
# static facts (.standin/target), .config, the directories of the build, the
# profiles of .targetinfo, the devices and the package list of a build.
#
package StandinIB::Target;

use v5.36;

use Exporter qw(import);
use StandinIB::Util;

our @EXPORT = qw($TOP %T %CONFIG $APK load_target dirs bin_dir
    load_targetinfo ensure_profiles_mk find_profile short_id load_device
    build_packages build_profile);

# The ImageBuilder directory, and what load_target reads from it.
our $TOP = $ENV{TOPDIR} || do { require Cwd; Cwd::getcwd() };
our %T;			# .standin/target
our %CONFIG;		# .config
our $APK = 0;		# apk flavour

# Loads .standin/target and .config.
sub load_target {
	my $t = slurp("$TOP/.standin/target")
	    // die "standin-ib: $TOP is not a stand-in ImageBuilder\n";
	my $c = slurp("$TOP/.config") // '';

	for (split /\n/, $t) {
		$T{$1} = $2 if /^([A-Z0-9_]+)=(.*)$/;
	}
	for (split /\n/, $c) {
		if (/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/) {
			my ($k, $v) = ($1, $2);
			$v =~ s/^"(.*)"$/$1/;
			$CONFIG{$k} = $v;
		}
	}
	$APK = ($CONFIG{CONFIG_USE_APK} // '') eq 'y' ? 1 : 0;
}

# The directories of the build, as the real rules.mk names them.
sub dirs {
	my $build = "$TOP/build_dir/target-$T{ARCH_PACKAGES}_musl";

	return (
		build	=> $build,
		kdir	=> "$build/linux-$T{BOARD}_$T{SUBTARGET}",
		target	=> "$build/root-$T{BOARD}",
		json	=> "$build/json_info_files",
		tmp	=> "$TOP/tmp",
		dl	=> "$TOP/dl",
	);
}

# BIN_DIR as given, or the real default.
sub bin_dir {
	return env('BIN_DIR') // "$TOP/bin/targets/$T{BOARD}/$T{SUBTARGET}";
}

# Parses .targetinfo: default packages and the profiles in file order.
sub load_targetinfo {
	my $text = slurp("$TOP/.targetinfo") // '';
	my (@profiles, $cur, @defaults, $in_desc);

	for my $line (split /\n/, $text) {
		if ($line =~ /^Default-Packages:\s*(.*)$/) {
			@defaults = words($1);
		} elsif ($line =~ /^Target-Profile:\s*(\S+)/) {
			$cur = { id => $1, name => '', packages => [],
			    meta => 0, supported => [] };
			push @profiles, $cur;
			$in_desc = 0;
		} elsif ($line eq '@@') {
			$cur = undef;
			$in_desc = 0;
		} elsif (!$cur || $in_desc) {
			next;
		} elsif ($line =~ /^Target-Profile-Name:\s*(.*?)\s*$/) {
			$cur->{name} = $1;
		} elsif ($line =~ /^Target-Profile-Packages:\s*(.*)$/) {
			$cur->{packages} = [ words($1) ];
		} elsif ($line =~ /^Target-Profile-hasImageMetadata:\s*(\d+)/) {
			$cur->{meta} = $1;
		} elsif ($line =~ /^Target-Profile-SupportedDevices:\s*(.*)$/) {
			$cur->{supported} = [ words($1) ];
		} elsif ($line =~ /^Target-Profile-Description:/) {
			$in_desc = 1;
		}
	}
	return (\@defaults, \@profiles);
}

# Writes .profiles.mk from .targetinfo the first time it is needed.
sub ensure_profiles_mk ($profiles) {
	my $mk = "$TOP/.profiles.mk";
	my @st = stat($mk);
	my @ti = stat("$TOP/.targetinfo");
	my $out;

	return 0 if @st && @ti && $st[9] >= $ti[9];
	$out = 'PROFILE_NAMES = ' . join(' ', map { $_->{id} } @$profiles)
	    . "\n";
	for my $p (@$profiles) {
		$out .= "$p->{id}_NAME:=$p->{name}\n";
		$out .= "$p->{id}_PACKAGES:=" . join(' ', @{$p->{packages}})
		    . "\n";
		$out .= "$p->{id}_HAS_IMAGE_METADATA:=$p->{meta}\n";
		$out .= "$p->{id}_SUPPORTED_DEVICES:="
		    . join(' ', @{$p->{supported}}) . "\n";
	}
	spew($mk, $out);
	return 1;
}

# Finds the profile PROFILE names (with or without DEVICE_); the first
# profile when PROFILE is unset; undef when it does not exist.
sub find_profile ($profiles) {
	my $want = env('PROFILE');

	return $profiles->[0] unless defined $want;
	for my $p (@$profiles) {
		return $p if $p->{id} eq "DEVICE_$want" || $p->{id} eq $want;
	}
	return undef;
}

# The profile id without its DEVICE_ prefix.
sub short_id ($p) {
	my $id = $p->{id};

	$id =~ s/^DEVICE_//;
	return $id;
}

# Reads the stanza of one device from .standin/devices.
sub load_device ($id) {
	my $text = slurp("$TOP/.standin/devices") // '';
	my %d = (images => []);

	if ($text =~ /^Device: \Q$id\E\n(.*?)^\@\@$/ms) {
		for my $line (split /\n/, $1) {
			if ($line =~ /^Image: (\S+) (\S+) (\S+)$/) {
				push @{$d{images}}, { fs => $1, type => $2,
				    suffix => $3 };
			} elsif ($line =~ /^([A-Za-z-]+): ?(.*)$/) {
				$d{$1} = $2;
			}
		}
		return \%d;
	}
	return \%d;
}

# --- package lists (reference §1.3) -----------------------------------------

# Drops every "-x" token and every x that has a matching "-x".
sub filter_removed (@list) {
	my %minus = map { substr($_, 1) => 1 } grep { /^-/ } @list;

	return grep { !/^-/ && !$minus{$_} } @list;
}

# The BUILD_PACKAGES list for the profile and the user's PACKAGES.
sub build_packages ($defaults, $profile) {
	my %seen;
	my @b = sort grep { !$seen{$_}++ }
	    (@$defaults, @{$profile->{packages}}, 'kernel');

	@b = filter_removed(@b);
	return filter_removed(words($ENV{PACKAGES}), @b);
}

# Resolves the profile of this build or dies (the profile was checked).
sub build_profile {
	my ($defaults, $profiles) = load_targetinfo();
	my $p = find_profile($profiles);

	die "standin-ib: no such profile\n" unless $p;
	return ($defaults, $p);
}

1;
