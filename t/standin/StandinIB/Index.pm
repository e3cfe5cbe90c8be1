#
# StandinIB::Index: the package indexes. Parses Packages stanzas, their
# dependencies and versions, reads the repositories of the ImageBuilder and
# collects every package available to the resolver.
#
package StandinIB::Index;

use v5.36;

use Exporter qw(import);
use StandinIB::Util;
use StandinIB::Target;

our @EXPORT = qw(parse_packages dep_groups provides repositories fetch_index
    load_available pv candidate);

# Parses Packages stanzas into a list of package hashes.
sub parse_packages ($text, $origin) {
	my @pkgs;

	for my $stanza (split /\n\s*\n/, $text // '') {
		my %p;
		my $last;
		for my $line (split /\n/, $stanza) {
			if ($line =~ /^([A-Za-z0-9-]+):\s?(.*)$/) {
				$last = $1;
				$p{$1} = $2;
			} elsif ($line =~ /^\s/ && defined $last) {
				$p{$last} .= "\n$line";
			}
		}
		next unless defined $p{Package} && length $p{Package};
		$p{Version} //= '';
		$p{origin} = $origin;
		push @pkgs, \%p;
	}
	return @pkgs;
}

# Splits a Depends-style field into groups of alternative names,
# ignoring version constraints.
sub dep_groups ($field) {
	my @groups;

	for my $part (split /,/, $field // '') {
		my @alts;
		for my $alt (split /\|/, $part) {
			$alt =~ s/\(.*?\)//g;
			$alt =~ s/^\s+|\s+$//g;
			$alt =~ s/[<>=].*$//;
			push @alts, $alt if length $alt;
		}
		push @groups, \@alts if @alts;
	}
	return @groups;
}

# The names a package provides, with versions when they carry one.
sub provides ($p) {
	my @out;

	for my $part (split /,\s*|\s+/, $p->{Provides} // '') {
		next unless length $part;
		my ($n, $v) = split /=/, $part, 2;
		push @out, [ $n, $v ];
	}
	return @out;
}

# Compares two package versions roughly the way opkg and apk do.
sub vercmp ($a, $b) {
	my @a = ($a =~ /(~|\d+|[A-Za-z]+|[^~\dA-Za-z]+)/g);
	my @b = ($b =~ /(~|\d+|[A-Za-z]+|[^~\dA-Za-z]+)/g);

	while (@a || @b) {
		my $x = shift(@a) // '';
		my $y = shift(@b) // '';
		return -1 if $x eq '~' && $y ne '~';
		return 1 if $y eq '~' && $x ne '~';
		if ($x =~ /^\d+$/ && $y =~ /^\d+$/) {
			return $x <=> $y if $x != $y;
		} elsif ($x ne $y) {
			return $x cmp $y;
		}
	}
	return 0;
}

# The repository lines of repositories.conf or repositories.
sub repositories {
	my @repos;

	if ($APK) {
		for (split /\n/, slurp("$TOP/repositories") // '') {
			s/^\s+|\s+$//g;
			next if $_ eq '' || /^#/;
			my @w = split /\s+/;
			my $url = $w[-1];
			(my $name = $url) =~ s{/packages\.adb$}{};
			push @repos, { name => feed_name($name) // $name,
			    url => $url };
		}
		return @repos;
	}
	for (split /\n/, slurp("$TOP/repositories.conf") // '') {
		if (/^\s*src(?:\/gz)?\s+(\S+)\s+(\S+)/) {
			push @repos, { name => $1, url => $2 };
		}
	}
	# The names become file names under dl/, as opkg's lists do.
	return grep { $_->{name} =~ /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/ } @repos;
}

# Maps a feed URL of the downloads layout to a stand-in feed name.
sub feed_name ($url) {
	$url =~ s{/+$}{};
	$url =~ s{/(?:packages\.adb|Packages(?:\.gz)?)$}{};
	return 'core' if $url =~ m{/targets/[^/]+/[^/]+/packages$};
	return 'kmods' if $url =~ m{/targets/[^/]+/[^/]+/kmods/[^/]+$};
	return $1 if $url =~ m{/packages/[^/]+/([^/]+)$};
	return undef;
}

# The local directory behind a file: URL, or undef for remote URLs.
sub local_dir ($url) {
	my $path;

	return undef unless $url =~ m{^file:(?://)?(.*)$};
	$path = $1;
	$path =~ s{/(?:packages\.adb|Packages(?:\.gz)?)$}{};
	$path = "$TOP/$path" unless $path =~ m{^/};
	return $path;
}

# Reads a Packages or Packages.gz index from a directory.
sub read_index_dir ($dir) {
	my $text = slurp("$dir/Packages");

	if (!defined $text && -f "$dir/Packages.gz") {
		require IO::Uncompress::Gunzip;
		IO::Uncompress::Gunzip::gunzip("$dir/Packages.gz" => \$text)
		    or $text = undef;
	}
	return $text;
}

# The text of a fetched index, gunzipped when it is gzip'd.
sub index_text ($data) {
	my $text;

	return $data unless defined $data && substr($data, 0, 2) eq "\x1f\x8b";
	require IO::Uncompress::Gunzip;
	IO::Uncompress::Gunzip::gunzip(\$data => \$text) or return undef;
	return $text;
}

# The index of an http:// repository: its packages.adb (apk), else
# Packages.gz, else Packages.
sub fetch_http_index ($url) {
	require StandinIB::Fetch;
	return index_text((StandinIB::Fetch::fetch_url($url))[0]) if $APK;
	$url =~ s{/(?:Packages(?:\.gz)?)$}{};
	for my $f ('Packages.gz', 'Packages') {
		my ($data) = StandinIB::Fetch::fetch_url("$url/$f");
		return index_text($data) if defined $data;
	}
	return undef;
}

# The index text of one repository, or undef when it cannot be fetched:
# file: and http:// repositories are read, the others (https, offline)
# come from the embedded copies of the official feeds.
sub fetch_index ($repo) {
	my $dir = local_dir($repo->{url});
	my $name;

	return read_index_dir($dir) if defined $dir;
	return fetch_http_index($repo->{url}) if $repo->{url} =~ m{^http://};
	$name = feed_name($repo->{url});
	return undef unless defined $name;
	return slurp("$TOP/.standin/feeds/$name/Packages");
}

# Every package available to the resolver: the lists that package_reload
# stored in dl/, plus the local kernel and libc.
sub load_available {
	my %d = dirs();
	my (@all, %by_name, %providers);

	my $private = private_fields();

	push @all, parse_packages(slurp("$TOP/.standin/local/Packages"),
	    'local');
	for my $repo (repositories()) {
		my $list = slurp("$d{dl}/$repo->{name}");
		next unless defined $list;
		push @all, parse_packages($list, $repo->{url});
	}
	for my $p (@all) {
		my $f = $private->{"$p->{Package} $p->{Version}"} or next;
		$p->{$_} //= $f->{$_} for keys %$f;
	}
	for my $p (@all) {
		my $arch = $p->{Architecture} // 'all';
		next unless $arch eq 'all' || $arch eq $T{ARCH_PACKAGES};
		my $old = $by_name{$p->{Package}};
		next if $old && vercmp($old->{Version}, $p->{Version}) >= 0;
		$by_name{$p->{Package}} = $p;
	}
	for my $p (sort { $a->{Package} cmp $b->{Package} } values %by_name) {
		push @{$providers{$_->[0]}}, $p for provides($p);
	}
	return { pkg => \%by_name, prov => \%providers };
}

# The stand-in's private fields (Standin-*) of the official packages, by
# "name version": a mirror's indexes do not carry them.
sub private_fields {
	my %f;
	my $dh;

	opendir($dh, "$TOP/.standin/feeds") or return \%f;
	for my $feed (sort grep { !/^\./ } readdir($dh)) {
		my $text = slurp("$TOP/.standin/feeds/$feed/Packages");
		for my $p (parse_packages($text, '')) {
			my %priv = map { $_ => $p->{$_} } grep { /^Standin-/ }
			    keys %$p;
			$f{"$p->{Package} $p->{Version}"} = \%priv if %priv;
		}
	}
	closedir($dh);
	return \%f;
}

# The version string of a package.
sub pv ($p) {
	return "$p->{Package}-$p->{Version}";
}

# The best package for a name: the package of that name, else a provider.
sub candidate ($av, $name) {
	return $av->{pkg}{$name} if $av->{pkg}{$name};
	my $provs = $av->{prov}{$name} // [];
	return $provs->[0];
}

1;
