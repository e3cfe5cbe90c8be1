#
# StandinIB::Image: `prepare_rootfs` and the images: the root
# filesystem, the size checks, the image files and their JSON info,
# profiles.json and sha256sums in BIN_DIR.
#
package StandinIB::Image;

use v5.36;

use StandinIB::Util;
use StandinIB::Target;
use StandinIB::Status;

# Copies a FILES directory over the root, keeping symlinks as they are.
sub copy_tree ($from, $to) {
	for my $src (walk($from)) {
		my $rel = substr($src, length($from));
		my $dst = "$to$rel";
		if (-l $src) {
			unlink($dst);
			make_path(dirname($dst));
			symlink(readlink($src), $dst);
		} elsif (-d $src) {
			make_path($dst);
		} elsif (-f $src) {
			copy($src, $dst) or die "standin-ib: cannot copy $src: "
			    . "$!\n";
			chmod((stat($src))[2] & 07777, $dst);
		}
	}
}

# `prepare_rootfs`: FILES, services, release files, the local key.
sub step_prepare_rootfs {
	my %d = dirs();
	my $files = env('FILES');
	my %disabled = map { $_ => 1 } words($ENV{DISABLED_SERVICES});
	my (@out, $dh, @svcs);

	push @out, [ \*STDOUT, '' ],
	    [ \*STDOUT, 'Finalizing root filesystem...' ];
	spew("$d{target}/etc/openwrt_release", release_text());
	spew("$d{target}/etc/openwrt_version", "$T{REVISION}\n");
	if (defined env('ADD_LOCAL_KEY')) {
		my $k = $APK ? "$TOP/keys/local-public-key.pem" :
		    "$TOP/key-build.pub";
		my $dst = $APK ? "$d{target}/etc/apk/keys/local-public-key.pem"
		    : "$d{target}/etc/opkg/keys/local-build-key";
		if (-f $k) {
			make_path(dirname($dst));
			copy($k, $dst);
		}
	}
	# FILES come last, as in the real one: nothing is written through
	# what they contain.
	copy_tree($files, $d{target}) if defined $files && -d $files;
	if (!-l "$d{target}/etc" && !-l "$d{target}/etc/init.d" &&
	    opendir($dh, "$d{target}/etc/init.d")) {
		@svcs = sort grep { !/^\./ } readdir($dh);
		closedir($dh);
	}
	for my $svc (@svcs) {
		push @out, [ \*STDOUT, ($disabled{$svc} ? 'Disabling ' :
		    'Enabling ') . $svc ];
	}
	emit_paced(1.0, @out);
	return 0;
}

# The text of /etc/openwrt_release.
sub release_text {
	my $ver = $CONFIG{CONFIG_VERSION_NUMBER} // $T{VERSION};

	return "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='$ver'\n"
	    . "DISTRIB_REVISION='$T{REVISION}'\n"
	    . "DISTRIB_TARGET='$T{BOARD}/$T{SUBTARGET}'\n"
	    . "DISTRIB_ARCH='$T{ARCH_PACKAGES}'\n"
	    . "DISTRIB_DESCRIPTION='OpenWrt $ver $T{REVISION}'\n"
	    . "DISTRIB_TAINTS=''\n";
}

# `build_image`, first recipe line.
sub step_build_image_begin {
	my %d = dirs();

	print "\nBuilding images...\n";
	remove_tree($d{json});
	return 0;
}

# The root filesystem types this build makes, from .config and
# ROOTFS_FILESYSTEM.
sub filesystems {
	my %fs;
	my $only = env('ROOTFS_FILESYSTEM');

	for my $f (qw(squashfs ext4 ubifs jffs2)) {
		my $k = 'CONFIG_TARGET_ROOTFS_' .
		    ($f eq 'ext4' ? 'EXT4FS' : uc $f);
		$fs{$f} = 1 if ($CONFIG{$k} // '') eq 'y';
	}
	return { $only => 1 } if defined $only;
	return \%fs;
}

# The root partition size in bytes (ROOTFS_PARTSIZE or .config).
sub partsize {
	my $mb = env('ROOTFS_PARTSIZE') //
	    $CONFIG{CONFIG_TARGET_ROOTFS_PARTSIZE} // 104;

	$mb = 104 unless $mb =~ /^\d+$/;
	return $mb * 1048576;
}

# The bytes the root filesystem needs: the packages plus FILES.
sub content_bytes {
	my $sum = 0;
	my $files = env('FILES');

	$sum += $_->{'Installed-Size'} // 0 for read_status();
	if (defined $files && -d $files) {
		$sum += -s $_ for grep { !-l $_ && -f $_ } walk($files);
	}
	return $sum;
}

# `$(KDIR)/root.ext4`: the hard ext4 failure when the content does not fit.
sub step_rootfs_ext4 {
	my $need = content_bytes();
	my $have = partsize();
	my %d = dirs();

	return 0 unless ($T{PARTITIONED} // '') eq 'y' && filesystems()->{ext4};
	if ($need > $have) {
		my $blocks = int(($need - $have + 4095) / 4096);
		print "Creating filesystem with parameters:\n";
		print "    Size: $have\n    Block size: 4096\n";
		print STDERR "error: ext4_allocate_best_fit_partial: failed "
		    . "to allocate $blocks blocks, out of space?\n";
		return 1;
	}
	print "Creating filesystem with parameters:\n"
	    . "    Size: $have\n    Block size: 4096\n"
	    . "    Blocks per group: 32768\n"
	    . "Created filesystem with 11/" . int($have / 16384)
	    . " inodes and " . int($need / 4096) . '/' . int($have / 4096)
	    . " blocks\n";
	pause(0.8);
	return 0;
}

# Lower-cases and replaces spaces and underscores, like image.mk's sanitize.
sub sanitize ($s) {
	$s = lc $s;
	$s =~ s/[ _]/-/g;
	return $s;
}

# IMG_PREFIX of reference §3.1.
sub img_prefix {
	my @parts = ('openwrt');
	my $ver = $CONFIG{CONFIG_VERSION_NUMBER} // '';
	my $extra = env('EXTRA_IMAGE_NAME');

	push @parts, sanitize($ver)
	    if ($CONFIG{CONFIG_VERSION_FILENAMES} // '') eq 'y' && length $ver;
	push @parts, sanitize($T{REVISION})
	    if ($CONFIG{CONFIG_VERSION_CODE_FILENAMES} // '') eq 'y';
	push @parts, sanitize($extra) if defined $extra;
	push @parts, $T{BOARD}, $T{SUBTARGET};
	return join('-', @parts);
}

# The bytes of one image: a tar of the staging root plus a marker file
# naming the image, so that every image type has different bytes.
sub image_bytes ($root, $name, $img) {
	my ($tar, $out, $fh);
	my %opt = (mtime => $T{SOURCE_DATE_EPOCH} + 0, uid => 0, gid => 0,
	    uname => 'root', gname => 'root');

	require Archive::Tar;
	$tar = Archive::Tar->new;
	for my $f (grep { -l $_ || -f $_ } walk($root)) {
		my $rel = substr($f, length($root) + 1);
		next if $rel =~ m{^tmp/};
		if (-l $f) {
			$tar->add_data($rel, '', { %opt, mode => 0777,
			    type => Archive::Tar::Constant::SYMLINK(),
			    linkname => readlink($f) });
		} else {
			$tar->add_data($rel, slurp($f), { %opt,
			    mode => (stat($f))[2] & 07777 });
		}
	}
	$tar->add_data('standin-image', "$name\n$img->{fs} $img->{type}\n",
	    { %opt, mode => 0644 });
	open($fh, '>', \$out) or die;
	$tar->write($fh);
	close($fh);
	return $out;
}

# `install` in target/linux/<board>/image: writes the images to
# KDIR/tmp and BIN_DIR, with the size checks and their messages, and
# one JSON info file per image.
sub step_build_images {
	my %d = dirs();
	my ($defaults, $p) = build_profile();
	my $dev = load_device(short_id($p));
	my $bin = bin_dir();
	my $prefix = img_prefix();
	my $devprefix = "$prefix-" . short_id($p);
	my $fs = filesystems();
	my $need = content_bytes();
	my (@out, %made);

	make_path("$d{kdir}/tmp", $bin, $d{json});
	spew("$bin/$prefix-" . lc(short_id($p)) . '.manifest',
	    manifest_text());
	for my $img (@{$dev->{images}}) {
		my $isfs = $img->{fs} ne '-';
		next if $isfs &&
		    ($img->{fs} eq 'initramfs' || !$fs->{$img->{fs}});
		my $name = $isfs ? "$devprefix-$img->{fs}-$img->{suffix}" :
		    "$devprefix-$img->{suffix}";
		my $limit = image_limit($dev, $img);
		if ($img->{fs} eq 'squashfs' && !$made{squashfs}++) {
			push @out, [ \*STDOUT, 'Parallel mksquashfs: Using 2 '
			    . 'processors' ];
			push @out, [ \*STDOUT, 'Creating 4.0 filesystem on '
			    . "$d{kdir}/root.squashfs, block size 262144." ];
		}
		if (defined $limit && $need > $limit) {
			push @out, [ \*STDERR, "    WARNING: Image file "
			    . "$d{kdir}/tmp/$name is too big: $need > $limit" ];
			push @out, [ \*STDERR, "cp: cannot stat "
			    . "'$d{kdir}/tmp/$name': No such file or "
			    . 'directory' ];
			push @out, [ \*STDERR, make_prefix() . ': [' .
			    "$TOP/include/image.mk:42: $bin/$name] Error 1 "
			    . '(ignored)' ];
			push @out, [ \*STDOUT, 'Skip JSON creation for non '
			    . "existing file $bin/$name" ];
			unlink("$d{kdir}/tmp/$name", "$bin/$name");
			next;
		}
		my $bytes = image_bytes($d{target}, $name, $img);
		spew("$d{kdir}/tmp/$name", $bytes);
		spew("$bin/$name", $bytes);
		write_json_info($p, $dev, $prefix, $name, $img, $bytes);
	}
	emit_paced(3.2, @out);
	return 0;
}

# The size limit of an image: IMAGE_SIZE on flash devices, the root
# partition on partitioned targets, none for artifacts.
sub image_limit ($dev, $img) {
	return undef unless $img->{fs} eq 'squashfs';
	return $dev->{'Image-Size'} if ($dev->{'Image-Size'} // '') =~ /^\d+$/;
	return partsize() if ($T{PARTITIONED} // '') eq 'y';
	return undef;
}

# What json_add_image_info.py writes for one built image.
sub write_json_info ($p, $dev, $prefix, $name, $img, $bytes) {
	my %d = dirs();
	my ($defaults) = load_targetinfo();
	my $sum = sha256_hex($bytes);
	my %image = (name => $name, sha256 => $sum, sha256_unsigned => $sum,
	    type => $img->{type});

	require JSON::PP;
	$image{filesystem} = $img->{fs} if $img->{fs} ne '-';
	my $info = {
		metadata_version => 1,
		id => short_id($p),
		image_prefix => "$prefix-" . short_id($p),
		target => "$T{BOARD}/$T{SUBTARGET}",
		version_code => $T{REVISION},
		version_number => $CONFIG{CONFIG_VERSION_NUMBER} // $T{VERSION},
		source_date_epoch => $T{SOURCE_DATE_EPOCH} + 0,
		arch_packages => $T{ARCH_PACKAGES},
		default_packages => [ sort @$defaults ],
		device_packages => $p->{packages},
		supported_devices => $p->{supported},
		titles => JSON::PP->new->decode($dev->{Titles} // '[]'),
		linux_kernel => { version => $T{LINUX_VERSION},
		    release => $T{LINUX_RELEASE}, vermagic => $T{VERMAGIC} },
		images => [ \%image ],
	};
	spew("$d{json}/$name.json", JSON::PP->new->canonical->encode($info));
}

# `json_overview_image_info`: merges the JSON info files into
# BIN_DIR/profiles.json (compact, sorted keys, no trailing newline).
sub step_json_overview {
	my %d = dirs();
	my $bin = bin_dir();
	my $out = "$bin/profiles.json";
	my ($dh, @files, $merged, $json);

	return 0 unless
	    ($CONFIG{CONFIG_JSON_OVERVIEW_IMAGE_INFO} // 'y') eq 'y';
	if (opendir($dh, $d{json})) {
		@files = sort grep { /\.json$/ } readdir($dh);
		closedir($dh);
	}
	if (!@files) {
		print "JSON info file script could not find any JSON files "
		    . "for target\n";
		return 0;
	}
	require JSON::PP;
	$json = JSON::PP->new->canonical;
	if (-f $out) {
		my $old = eval { $json->decode(slurp($out)) };
		$merged = $old if $old && ($old->{version_code} // '') eq
		    $T{REVISION};
	}
	for my $f (@files) {
		my $info = $json->decode(slurp("$d{json}/$f"));
		my $id = delete $info->{id};
		my $images = delete $info->{images};
		$merged //= { profiles => {} };
		my $prof = $merged->{profiles}{$id} //= { images => [] };
		for my $k (qw(device_packages image_prefix supported_devices
		    titles)) {
			$prof->{$k} = delete $info->{$k};
		}
		for my $img (@$images) {
			@{$prof->{images}} = grep { $_->{name} ne $img->{name} }
			    @{$prof->{images}};
			push @{$prof->{images}}, $img;
		}
		$merged->{$_} = $info->{$_} for keys %$info;
	}
	spew($out, $json->encode($merged));
	pause(0.2);
	return 0;
}

# `checksum`: BIN_DIR/sha256sums, sorted, every regular file but itself.
sub step_checksum {
	my $bin = bin_dir();
	my ($dh, $out);

	print "\nCalculating checksums...\n";
	opendir($dh, $bin) or return 0;
	for my $f (sort readdir($dh)) {
		next if $f eq 'sha256sums' || $f eq 'md5sums' ||
		    $f =~ /\.sha256sum$/ || -l "$bin/$f" || !-f "$bin/$f";
		$out .= sha256_hex(slurp("$bin/$f")) . " *$f\n";
	}
	closedir($dh);
	spew("$bin/sha256sums", $out // '');
	pause(0.3);
	return 0;
}

1;
