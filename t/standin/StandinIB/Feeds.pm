#
# StandinIB::Feeds: `package_reload` (the package lists, fetched as opkg
# update does) and `package_index` (the index of the local packages/
# directory).
#
package StandinIB::Feeds;

use v5.36;

use Exporter qw(import);
use StandinIB::Util;
use StandinIB::Target;
use StandinIB::Index;

our @EXPORT = qw(step_package_reload);

# `package_reload`: refreshes the package lists the way opkg update does.
sub step_package_reload {
	my %d = dirs();
	my $local = "$TOP/packages";
	my $stamp = $APK ? "$local/packages.adb" : "$local/Packages.gz";
	my @lines;

	if (-d $local && index_outdated($local, $stamp)) {
		push @lines, [ \*STDERR, 'Package list missing or not '
		    . 'up-to-date, generating it.' ];
		emit_paced(0.1, @lines);
		@lines = ();
		step_package_index();
	}
	make_path($d{dl}, "$d{target}/tmp");
	for my $repo (repositories()) {
		my $text = fetch_index($repo);
		my $base = $repo->{url};
		$base =~ s{/(?:packages\.adb|Packages(?:\.gz)?)$}{};
		if ($APK) {
			push @lines, [ \*STDERR, 'WARNING: opening '
			    . "$repo->{url}: No such file or directory" ]
			    unless defined $text;
		} elsif (defined $text) {
			push @lines, [ \*STDERR,
			    "Downloading $base/Packages.gz" ];
			push @lines, [ \*STDERR, 'Updated list of available '
			    . "packages in $d{dl}/$repo->{name}" ];
			if (check_signature() && $base !~ /^file:/) {
				push @lines, [ \*STDERR,
				    "Downloading $base/Packages.sig" ];
				push @lines, [ \*STDERR,
				    'Signature check passed.' ];
			}
		} else {
			push @lines, [ \*STDERR,
			    "Downloading $base/Packages.gz" ];
			push @lines, [ \*STDERR, '*** Failed to download the '
			    . "package list from $base/Packages.gz" ];
		}
		if (defined $text) {
			spew("$d{dl}/$repo->{name}", $text);
		} else {
			unlink("$d{dl}/$repo->{name}");
		}
	}
	emit_paced(budget(0.5, 0.8), @lines);
	return 0;
}

# Whether repositories.conf asks for signature checks.
sub check_signature {
	return (slurp("$TOP/repositories.conf") // '') =~
	    /^\s*option\s+check_signature/m;
}

# Whether the local package index is missing or older than a package.
sub index_outdated ($dir, $stamp) {
	my @st = stat($stamp);
	my $dh;

	return 1 unless @st;
	opendir($dh, $dir) or return 0;
	for my $f (readdir($dh)) {
		next if $f =~ /^\./;
		my @s = stat("$dir/$f");
		return 1 if @s && $s[10] > $st[10];
	}
	return 0;
}

# `package_index`: builds packages/Packages from the .ipk files there.
sub step_package_index {
	my $dir = "$TOP/packages";
	my $index = '';
	my $dh;

	print STDERR "\nBuilding package index...\n";
	make_path($dir, "$TOP/tmp");
	if ($APK) {
		spew("$dir/packages.adb", '');
		return 0;
	}
	opendir($dh, $dir) or return 0;
	for my $f (sort grep { /\.ipk$/ } readdir($dh)) {
		my $control = ipk_control("$dir/$f");
		next unless defined $control;
		$control =~ s/\s+$//;
		my @s = stat("$dir/$f");
		$index .= "$control\nFilename: $f\nSize: $s[7]\n"
		    . 'SHA256sum: ' . sha256_hex(slurp("$dir/$f")) . "\n\n";
	}
	closedir($dh);
	spew("$dir/Packages", $index);
	require IO::Compress::Gzip;
	IO::Compress::Gzip::gzip(\$index => "$dir/Packages.gz", Minimal => 1)
	    or die "standin-ib: cannot write $dir/Packages.gz\n";
	return 0;
}

# The control file of an .ipk (a gzip'd tar holding control.tar.gz,
# gzip'd or, as some tools write it, plain).
sub ipk_control ($path) {
	my ($outer, $inner, $ctl);

	require Archive::Tar;
	no warnings 'once';
	local $Archive::Tar::WARN = 0;
	$outer = Archive::Tar->new($path) or return undef;
	for my $name ('./control.tar.gz', 'control.tar.gz') {
		next unless $outer->contains_file($name);
		my $data = $outer->get_content($name);
		# Archive::Tar reads no gzip from a scalar handle.
		if (substr($data, 0, 2) eq "\x1f\x8b") {
			require IO::Uncompress::Gunzip;
			my $plain;
			IO::Uncompress::Gunzip::gunzip(\$data => \$plain)
			    or return undef;
			$data = $plain;
		}
		open(my $fh, '<', \$data) or return undef;
		$inner = Archive::Tar->new($fh, 1) or return undef;
		last;
	}
	return undef unless $inner;
	for my $name ('./control', 'control') {
		return $inner->get_content($name)
		    if $inner->contains_file($name);
	}
	return undef;
}

1;
