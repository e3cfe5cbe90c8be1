#
# Mkstandin::Mirror: the stand-in downloads.openwrt.org mirror:
# profiles.json, the ImageBuilder tarball, the package feeds, sha256sums
# (signed on request) per target, and .versions.json and .targets.json.
#
package Mkstandin::Mirror;

use v5.36;

use Digest::SHA qw(sha256_hex);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use IO::Compress::Gzip qw(gzip $GzipError);
use JSON::PP;
use Exporter qw(import);
use Mkstandin::Util;
use Mkstandin::Feeds;

our @EXPORT = qw(set_signer write_mirror_target write_mirror_indexes);

my ($SIGNER, $SIGN_KEY);	# --sign PROG, --sign-key FILE

# index.json (version 2: names without ABI suffix) of some packages.
sub index_json ($m, @pkgs) {
	my %idx;

	for my $p (@pkgs) {
		my $n = $p->{Package};
		$n =~ s/\Q$p->{ABIVersion}\E$// if $p->{ABIVersion};
		$idx{$n} = $p->{Version};
	}
	return $JSON->encode({ version => 2,
	    architecture => $m->{arch_packages}, packages => \%idx });
}

# Writes one feed directory: the package files, Packages (opkg text),
# Packages.gz (opkg) or packages.adb (apk; the stand-in's private format,
# the same text), and index.json.
sub write_feed_dir ($m, $feed, $dir) {
	my @pkgs = grep { $_->{feed} eq $feed } values %{$m->{packages}};
	my $tmp = "$dir.new$$";
	my $text = packages_text($m, $feed, 0);
	my $gz;

	remove_tree($tmp);
	spew("$tmp/Packages", $text);
	if ($m->{flavour} eq 'apk') {
		spew("$tmp/packages.adb", $text);
	} else {
		gzip(\$text => \$gz, Minimal => 1)
		    or die "mkstandin: gzip: $GzipError\n";
		spew("$tmp/Packages.gz", $gz);
	}
	spew("$tmp/$_->{Filename}", $_->{file}) for @pkgs;
	spew("$tmp/index.json", index_json($m, @pkgs));
	remove_tree($dir);
	rename($tmp, $dir) or die "mkstandin: cannot create $dir: $!\n";
}

# profiles.json of the downloads server: the real file for 23.05.4, else
# every profile of the stand-in in the real schema.
sub mirror_profiles_json ($m) {
	my %profiles;
	my $snap = $m->{version} eq 'SNAPSHOT';
	my $prefix = 'openwrt-' . ($snap ? '' : "$m->{version}-")
	    . "$m->{board}-$m->{subtarget}";

	return $m->{real_bytes} if defined $m->{real_bytes};
	for my $d (@{$m->{devices}}) {
		my @images;
		for my $img (@{$d->{images}}) {
			my $name = "$prefix-$d->{id}-" . ($img->{fs} eq '-' ? ''
			    : "$img->{fs}-") . $img->{suffix};
			my %i = (name => $name, type => $img->{type},
			    sha256 => sha256_hex("image $name"));
			$i{sha256_unsigned} = $i{sha256};
			$i{filesystem} = $img->{fs} if $img->{fs} ne '-';
			push @images, \%i;
		}
		$profiles{$d->{id}} = { device_packages => $d->{packages},
		    image_prefix => "$prefix-$d->{id}", images => \@images,
		    supported_devices => $d->{supported},
		    titles => $d->{titles} };
	}
	return $JSON->encode({
		arch_packages => $m->{arch_packages},
		default_packages => [ sort @{$m->{defaults}} ],
		linux_kernel => { version => $m->{linux},
		    release => $m->{krel}, vermagic => $m->{vermagic} },
		metadata_version => 1,
		profiles => \%profiles,
		source_date_epoch => $m->{sde} + 0,
		target => $m->{target},
		version_code => $m->{revision},
		version_number => $m->{version},
	});
}

# Writes `<hex> *<name>` lines for the regular files of a directory.
sub write_sha256sums ($dir) {
	my ($dh, $out);

	opendir($dh, $dir) or die "mkstandin: cannot read $dir: $!\n";
	for my $f (sort readdir($dh)) {
		next if $f =~ /^\./ || $f =~ /^sha256sums/ || !-f "$dir/$f";
		$out .= sha256_hex(slurp("$dir/$f")) . " *$f\n";
	}
	closedir($dh);
	spew("$dir/sha256sums", $out // '');
}

# Sets the signer of sha256sums (--sign PROG --sign-key FILE; undef for
# none).
sub set_signer ($prog, $key) {
	($SIGNER, $SIGN_KEY) = ($prog, $key);
}

# Signs sha256sums with usign when a signer and a secret key were given
# (PROG -s FILE sha256sums writes the .sig).
sub sign_sha256sums ($dir) {
	return unless defined $SIGNER && defined $SIGN_KEY;
	system($SIGNER, '-s', $SIGN_KEY, "$dir/sha256sums") == 0
	    or die "mkstandin: signing $dir/sha256sums failed\n";
}

# The ImageBuilder tarball: one top-level directory named like the file.
sub write_tarball ($m, $ibdir, $tdir) {
	my $snap = $m->{version} eq 'SNAPSHOT';
	my $top = 'openwrt-imagebuilder-' . ($snap ? '' : "$m->{version}-")
	    . "$m->{board}-$m->{subtarget}.Linux-x86_64";
	my $sub = basename($ibdir);
	my @cmd = ('tar', '--zstd', '-cf', "$tdir/$top.tar.zst",
	    '--sort=name', '--owner=0', '--group=0', '--numeric-owner',
	    "--mtime=\@$m->{sde}", "--transform=flags=r;s|^\Q$sub\E|$top|",
	    '-C', dirname($ibdir), $sub);

	system(@cmd) == 0 or die "mkstandin: tar failed for $top\n";
}

# Writes what the downloads server has for one target. The per-arch feed
# directories are written whole and renamed into place; two targets of one
# architecture in one version would each write their own universe (the
# stand-ins have none).
sub write_mirror_target ($m, $ibdir, $mirror) {
	my $vp = version_path($m);
	my $tdir = "$mirror/$vp/targets/$m->{target}";
	my $pdir = "$mirror/$vp/packages/$m->{arch_packages}";

	remove_tree($tdir);
	make_path($tdir);
	spew("$tdir/profiles.json", mirror_profiles_json($m));
	write_tarball($m, $ibdir, $tdir);
	write_feed_dir($m, 'core', "$tdir/packages");
	write_feed_dir($m, 'kmods', "$tdir/kmods/$m->{kmods_dir}")
	    if $m->{flavour} eq 'apk';
	my @feeds = grep { !/^(?:core|kmods)$/ } feeds($m);
	write_feed_dir($m, $_, "$pdir/$_") for @feeds;
	spew("$pdir/feeds.conf", join('', map {
	    ($_ eq 'base' ? 'src-git-full' : 'src-git')
	    . " $_ https://git.openwrt.org/"
	    . ($_ eq 'base' ? 'openwrt/openwrt' : "feed/$_") . '.git^'
	    . substr(sha256_hex("$_ $m->{version}"), 0, 40) . "\n" } @feeds));
	write_sha256sums($tdir);
	sign_sha256sums($tdir);
}

# .versions.json and the .targets.json files, from what the mirror holds.
sub write_mirror_indexes ($mirror) {
	my (@versions, $dh);

	for my $vdir (glob("$mirror/releases/*"), "$mirror/snapshots") {
		next unless -d "$vdir/targets";
		my %targets;
		for my $pj (glob("$vdir/targets/*/*/profiles.json")) {
			my ($t, $s) = (split m{/}, $pj)[-3, -2];
			my $text = slurp($pj);
			$targets{"$t/$s"} = $1
			    if $text =~ /"arch_packages"\s*:\s*"([^"]+)"/;
		}
		spew("$vdir/.targets.json", $JSON->encode(\%targets));
		push @versions, basename($vdir) if $vdir =~ m{/releases/};
	}
	@versions = sort { vsort($a, $b) } @versions;
	my $pretty = JSON::PP->new->canonical->pretty;

	spew("$mirror/.versions.json", $pretty->encode({
		stable_version => $versions[-1] // '',
		oldstable_version => @versions > 1 ? $versions[-2] : '',
		upcoming_version => '',
		versions_list => \@versions,
	}));
}

1;
