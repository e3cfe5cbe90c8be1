#
# StandinIB::Info: `make help` and `make info`.
#
package StandinIB::Info;

use v5.36;

use StandinIB::Util;
use StandinIB::Target;

# `make help`: the commands and variables of the ImageBuilder.
sub step_help {
	print <<"EOF";
Available Commands:
	help:	This text
	info:	List the target, its default packages and its profiles
	clean:	Delete the build scratch and the output directory
	image:	Build firmware images (variables below)
	manifest: Print the packages an image would contain
	package_whatdepends: Print the packages depending on PACKAGE
	package_depends: Print the dependencies of PACKAGE

Variables of 'make image' (without any, the first profile is built with
the default package set):

	PROFILE="<name>"               # the device profile to build
	PACKAGES="<a> [-<b>] ..."      # extra packages, "-name" removes one
	FILES="<dir>"                  # files copied over the root filesystem
	BIN_DIR="<absolute dir>"       # where the images go
	EXTRA_IMAGE_NAME="<text>"      # inserted into image file names
	DISABLED_SERVICES="<s1> <s2>"  # init scripts to disable
	ADD_LOCAL_KEY=1                # put the local signing key in the image
	ROOTFS_PARTSIZE="<MiB>"        # root partition size (x86, SD cards)
	ROOTFS_FILESYSTEM="<fs>"       # build only this root filesystem type

Variables of 'make manifest': PROFILE, PACKAGES, STRIP_ABI=1 (print names
without their ABI version). 'make package_depends' and
'make package_whatdepends' need PACKAGE="<name>".

EOF
	return 0;
}

# `make info`: the exact format of reference §2.
sub step_info {
	my ($defaults, $profiles) = load_targetinfo();
	my $first = ensure_profiles_mk($profiles);
	my @out;

	push @out, "Current Target: \"$T{BOARD}/$T{SUBTARGET}\"";
	push @out, "Current Architecture: \"$T{ARCH}\"";
	push @out, "Current Revision: \"$T{REVISION}\"";
	push @out, 'Default Packages: ' . join(' ', @$defaults);
	push @out, 'Available Profiles:';
	push @out, '';
	for my $p (@$profiles) {
		push @out, short_id($p) . ':';
		push @out, "    $p->{name}" if length $p->{name};
		push @out, '    Packages: ' . join(' ', @{$p->{packages}});
		push @out, "    hasImageMetadata: $p->{meta}";
		push @out, '    SupportedDevices: ' .
		    join(' ', @{$p->{supported}}) if @{$p->{supported}};
	}
	pause($first ? 0.7 : 0);
	print join("\n", @out), "\n";
	pause(0.3);
	return 0;
}

1;
