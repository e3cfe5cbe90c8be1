#
# Mkstandin::Feeds: the package feeds of a stand-in: their names,
# their URLs on the downloads server, their Packages texts and the
# repositories file that lists them.
#
package Mkstandin::Feeds;

use v5.36;

use Exporter qw(import);

our @EXPORT = qw(packages_text feeds version_path repositories_text);

# The fields of a Packages stanza, in the order they are written.
my @FIELD_ORDER = qw(Package Version Depends Conflicts Provides Source
    SourceName License Section ABIVersion Architecture Installed-Size
    Filename Size SHA256sum Description Standin-Services Standin-Files);

# Packages text for the packages of one feed (private fields optional).
sub packages_text ($m, $feed, $private) {
	my $out = '';

	for my $n (sort keys %{$m->{packages}}) {
		my $p = $m->{packages}{$n};
		next unless $p->{feed} eq $feed;
		for my $f (@FIELD_ORDER) {
			next unless defined $p->{$f};
			next if !$private && $f =~ /^Standin-/;
			$out .= "$f: $p->{$f}\n";
		}
		$out .= "\n";
	}
	return $out;
}

# The feed names of a stand-in, in repositories order.
sub feeds ($m) {
	my @f = ('core');

	push @f, 'kmods' if $m->{flavour} eq 'apk';
	push @f, qw(base luci packages routing telephony);
	push @f, 'video' if $m->{flavour} eq 'apk';
	return @f;
}

# The downloads path of this version: releases/<v> or snapshots.
sub version_path ($m) {
	return $m->{version} eq 'SNAPSHOT' ? 'snapshots' :
	    "releases/$m->{version}";
}

# The URL of a feed on downloads.openwrt.org.
sub feed_url ($m, $feed) {
	my $base = 'https://downloads.openwrt.org/' . version_path($m);

	return "$base/targets/$m->{target}/packages" if $feed eq 'core';
	return "$base/targets/$m->{target}/kmods/$m->{kmods_dir}"
	    if $feed eq 'kmods';
	return "$base/packages/$m->{arch_packages}/$feed";
}

# repositories.conf (opkg) or repositories (apk).
sub repositories_text ($m) {
	my $out;

	if ($m->{flavour} eq 'apk') {
		return join('', map { feed_url($m, $_) . "/packages.adb\n" }
		    feeds($m));
	}
	$out = "## Remote package repositories\n";
	$out .= "src/gz openwrt_$_ " . feed_url($m, $_) . "\n" for feeds($m);
	$out .= "\n## This is the local package repository, do not remove!\n"
	    . "src imagebuilder file:packages\n\noption check_signature\n";
	return $out;
}

1;
