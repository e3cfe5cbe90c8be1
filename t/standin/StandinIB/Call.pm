#
# StandinIB::Call: the first recipe lines of `_call_image` and
# `_call_manifest` (the staging directories, the header of the build log),
# and `clean`.
#
package StandinIB::Call;

use v5.36;

use StandinIB::Util;
use StandinIB::Target;
use StandinIB::Misbehave;

# Recreates the staging root and the output directories.
sub prepare_dirs ($with_bin) {
	my %d = dirs();

	remove_tree($d{target});
	make_path($d{target}, $d{tmp}, $d{dl});
	make_path(bin_dir()) if $with_bin;
}

# `_call_image`, first recipe line: the header of the build log.
sub step_call_image {
	my ($defaults, $p) = build_profile();
	my $bin = bin_dir();
	my @pk = build_packages($defaults, $p);

	if ($bin !~ m{^/}) {
		print STDERR "standin: BIN_DIR must be an absolute path, "
		    . "got '$bin'\n";
		return 1;
	}
	if ((env('EXTRA_IMAGE_NAME') // '') =~ m{/}) {
		print STDERR "standin: EXTRA_IMAGE_NAME must not contain '/'\n";
		return 1;
	}
	prepare_dirs(1);
	misbehave();
	print "Building images for $T{BOARD}"
	    . (length $p->{name} ? " - $p->{name}" : '') . "\n";
	print 'Packages: ', join(' ', @pk), "\n";
	print "\n";
	pause(0.2);
	return 0;
}

# `_call_manifest`, first recipe line: only the staging directories.
sub step_call_manifest {
	build_profile();
	prepare_dirs(0);
	return 0;
}

# `clean`: tmp/, dl/, the staging root and BIN_DIR.
sub step_clean {
	my %d = dirs();
	my $bin = bin_dir();

	remove_tree($d{tmp}, $d{dl}, $d{target});
	remove_tree($bin) if $bin =~ m{^/} && $bin ne '/';
	return 0;
}

1;
