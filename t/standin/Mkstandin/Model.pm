#
# Mkstandin::Model: the model of one stand-in: its facts (revision,
# kernel, flavour), its devices and images from the real profiles.json, and
# its packages with their versions, sizes, feeds and dependencies.
#
package Mkstandin::Model;

use v5.36;

use Digest::SHA qw(sha256_hex);
use Exporter qw(import);
use Mkstandin::Data;
use Mkstandin::Util;
use Mkstandin::Pkgfile;

our @EXPORT = qw(make_model title_text);

# The display title of a profiles.json titles entry.
sub title_text ($t) {
	return $t->{title} if defined $t->{title};
	return join(' ', grep { defined && length } $t->{vendor}, $t->{model},
	    $t->{variant});
}

# IMAGE_SIZE of a flash device: the size its name suggests, else 16 MiB,
# less the boot loader partitions.
sub flash_size ($id) {
	my $mb = $id =~ /-(\d+)m$/ ? $1 : 16;

	return ($mb * 1024 - 512) * 1024;
}

# One device from a real profiles.json entry.
sub device_from_profile ($id, $p, $flash) {
	my @images;

	for my $img (@{$p->{images}}) {
		my $rest = $img->{name};
		my $fs = $img->{filesystem};
		$rest =~ s/^\Q$p->{image_prefix}\E-// or next;
		$rest =~ s/^\Q$fs\E-// if defined $fs;
		push @images, { fs => $fs // '-', type => $img->{type},
		    suffix => $rest };
	}
	return {
		id => $id,
		title => title_text($p->{titles}[0] // { title => $id }),
		titles => $p->{titles},
		packages => $p->{device_packages},
		supported => $p->{supported_devices},
		images => \@images,
		image_size => $flash ? flash_size($id) : undef,
	};
}

# The 1.2.3 fixture devices: those of the reference server's canned info.
sub fixture_devices ($fixture) {
	my $tp = $fixture->{profiles}{testprofile};
	my @tp_images;

	for my $img (@{$tp->{images}}) {
		my $rest = $img->{name};
		$rest =~ s/^\Q$tp->{image_prefix}\E-//;
		$rest =~ s/^\Q$img->{filesystem}\E-//;
		push @tp_images, { fs => $img->{filesystem},
		    type => $img->{type}, suffix => $rest };
	}
	my $sq = [ { fs => 'squashfs', type => 'sysupgrade',
	    suffix => 'sysupgrade.bin' } ];
	return [
		{ id => 'Default', title => 'Default Profile',
		    titles => [ { title => 'Default Profile' } ],
		    packages => [], supported => [], images => $sq,
		    image_size => flash_size('Default') },
		{ id => '8dev_carambola2', title => '8devices Carambola2',
		    titles => [ { vendor => '8devices',
		    model => 'Carambola2' } ],
		    packages => [ 'kmod-usb-chipidea2' ],
		    supported => [ '8dev,carambola2', 'carambola2' ],
		    images => $sq, image_size => flash_size('carambola2') },
		{ id => 'testprofile', title => title_text($tp->{titles}[0]),
		    titles => $tp->{titles},
		    packages => [ qw(kmod-usb2 kmod-usb-chipidea2
		    kmod-usb-storage -swconfig) ],
		    supported => $tp->{supported_devices},
		    images => \@tp_images, image_size => undef },
	];
}

# Builds the model of one stand-in: facts, devices, packages.
sub make_model ($version, $target, $data) {
	my $v = $VERSIONS{$version};
	my $t = $TARGETS{$target};
	my ($board, $sub) = split m{/}, $target;
	my %m = (version => $version, target => $target, board => $board,
	    subtarget => $sub, %$t, %$v);
	my $real;

	if ($version eq '1.2.3') {
		$real = $JSON->decode(slurp("$data/asu-1.2.3-$board-$sub-"
		    . 'profiles.json'));
		$m{devices} = fixture_devices($real);
		$m{defaults} = [ @FIXTURE_DEFAULTS ];
		$m{arch_packages} = $real->{arch_packages};
	} else {
		my $from = $v->{from} // $version;
		my $file = "$data/openwrt-$from-$board-$sub-profiles.json";
		$m{real_bytes} = slurp($file);
		$real = $JSON->decode($m{real_bytes});
		$m{devices} = [ map { device_from_profile($_,
		    $real->{profiles}{$_}, $t->{flash}) }
		    sort keys %{$real->{profiles}} ];
		$m{defaults} = [ @{$real->{default_packages}} ];
		$m{arch_packages} = $real->{arch_packages};
		$m{revision} //= $real->{version_code};
		$m{sde} //= $real->{source_date_epoch};
	}
	if ($m{flavour} eq 'apk') {
		s/^opkg$/apk-mbedtls/ for @{$m{defaults}};
		delete $m{real_bytes};
	}
	$m{real} = $real;
	$m{vermagic} = substr(sha256_hex("vermagic $m{linux} $version "
	    . $target), 0, 32);
	$m{kmods_dir} = "$m{linux}-$m{krel}-$m{vermagic}";
	$m{packages} = make_packages(\%m);
	return \%m;
}

# The version string of a package in this stand-in.
sub pkg_version ($m, $name) {
	my $apk = $m->{style} eq 'apk';
	my $rev = $m->{revision};

	return '1.0' if $name eq 'test1';
	return '2.0' if $name eq 'test2';
	return $m->{libc} if $name eq 'libc';
	return $m->{busybox} if $name eq 'busybox';
	if ($name eq 'kernel') {
		return $apk ? "$m->{linux}~$m->{vermagic}-r$m->{krel}" :
		    "$m->{linux}-$m->{krel}-$m->{vermagic}";
	}
	return $apk ? "$m->{linux}-r$m->{krel}" : "$m->{linux}-$m->{krel}"
	    if $name =~ /^kmod-/;
	if ($name eq 'base-files') {
		(my $hash = $rev) =~ s/^r\d+-//;
		return $apk ? "1660~$hash-r1" : "1532-$rev";
	}
	if ($name =~ /^libubox/) {
		return $apk ? '2024.03.29~eb9bcb64-r1' :
		    '2023-05-23-75a3b870-1';
	}
	return $apk ? '1.0-r1' : '1.0-1';
}

# Installed-Size: small and deterministic, so a default image fits any
# flash device; the kernel and huge-package are the exceptions.
sub pkg_size ($name) {
	return 64 * 1048576 if $name eq 'huge-package';
	return 1887436 if $name eq 'kernel';
	return 8192 + hashnum($name, 64) * 1024;
}

# The feed a package is published in.
sub pkg_feed ($m, $name) {
	return 'local' if $name eq 'kernel' || $name eq 'libc';
	return $m->{flavour} eq 'apk' ? 'kmods' : 'core' if $name =~ /^kmod-/;
	return 'core' if $name =~ /firmware/;
	return 'luci' if $name =~ /^luci/;
	return $FEED_OF{$name} // 'base';
}

# Dependencies of a package from the table, or by its kind.
sub pkg_depends ($deps, $name) {
	return $deps->{$name} if $deps->{$name};
	return [] if $name =~ /firmware|^ca-|regdb/;
	return [ 'kernel' ] if $name =~ /^kmod-/;
	return [ 'libc' ];
}

# The package universe of a stand-in: defaults, device packages, extras
# and everything they depend on. A plain name that an ABI-versioned
# library provides (libgcc, libustream-mbedtls) brings in that library.
sub make_packages ($m) {
	my (%deps, %abi, %plain, %pkgs, @work);

	for (split /\n/, $DEPS =~ s/\n[ \t]+/ /gr) {
		my ($n, $d) = /^(\S+):\s*(.*)$/ or next;
		$deps{$n} = [ split ' ', $d ];
	}
	for (split /\n/, $ABI) {
		my ($n, $name, $v) = split ' ';
		$abi{$n} = [ $name, $v ];
		$plain{$name} = $n;
	}
	$plain{nftables} = 'nftables-json';
	@work = (@{$m->{defaults}}, @EXTRAS, 'kernel', 'libc',
	    map { map { s/^-//r } @{$_->{packages}} } @{$m->{devices}});
	while (defined(my $n = shift @work)) {
		$n = $plain{$n} if $plain{$n};
		next if $pkgs{$n} || $n eq 'libdoesnotexist';
		my $dl = pkg_depends(\%deps, $n);
		$pkgs{$n} = make_package($m, $n, $dl, $abi{$n});
		push @work, @$dl;
	}
	return \%pkgs;
}

# One package stanza as a hash of Packages fields.
sub make_package ($m, $name, $deps, $abi) {
	my $apk = $m->{flavour} eq 'apk';
	my $ver = pkg_version($m, $name);
	my $size = pkg_size($name);
	my $arch = $ARCH_ALL{$name} ? 'all' : $m->{arch_packages};
	my $feed = pkg_feed($m, $name);
	my (@prov, @conf);
	my %p = (Package => $name, Version => $ver);

	my @d = map { $_ eq 'kernel' && !$apk ?
	    "kernel (=" . pkg_version($m, 'kernel') . ')' : $_ } @$deps;
	$p{Depends} = join(', ', @d) if @d;
	push @prov, $abi->[0] if $abi;
	push @prov, 'nftables' if $name eq 'nftables-json';
	if ($name eq 'dnsmasq-full') {
		push @prov, 'dnsmasq';
		push @conf, 'dnsmasq' unless $apk;
	}
	if ($name =~ /^conflict-([ab])$/) {
		if ($apk) {
			push @prov, 'conflict-ab';
		} else {
			push @conf, $1 eq 'a' ? 'conflict-b' : 'conflict-a';
		}
	}
	@prov = map { "$_=$ver" } @prov if $apk;
	$p{Conflicts} = join(', ', @conf) if @conf;
	$p{Provides} = join(', ', @prov) if @prov;
	$p{Source} = $feed eq 'core' || $feed eq 'kmods' || $feed eq 'local' ?
	    "package/kernel/$name" : "feeds/$feed/$name";
	$p{SourceName} = $name;
	$p{License} = 'GPL-2.0';
	$p{Section} = $name =~ /^kmod-/ ? 'kernel' : $name =~ /^lib/ ? 'libs' :
	    $name =~ /^luci/ ? 'luci' : 'base';
	$p{ABIVersion} = $abi->[1] if $abi;
	$p{Architecture} = $arch;
	$p{'Installed-Size'} = $size;
	$p{Description} = " Stand-in package $name";
	$p{'Standin-Services'} = $SERVICES{$name} if $SERVICES{$name};
	$p{'Standin-Files'} = $FILES{$name} if $FILES{$name};
	$p{Filename} = $apk ? "$name-$ver.apk" : "${name}_${ver}_$arch.ipk";
	$p{file} = package_file(\%p, $m->{sde});
	$p{Size} = length($p{file});
	$p{SHA256sum} = sha256_hex($p{file});
	$p{feed} = $feed;
	return \%p;
}

1;
