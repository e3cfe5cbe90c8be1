#
# StandinIB::Install: `package_install`. Resolves the package list and
# installs it into the staging root, with the behaviour and the error
# messages of opkg or of apk.
#
package StandinIB::Install;

use v5.36;

use StandinIB::Util;
use StandinIB::Target;
use StandinIB::Index;
use StandinIB::Status;
use StandinIB::Fetch;

# `package_install`: resolves and installs into the staging root.
sub step_package_install {
	my ($defaults, $p) = build_profile();
	my @want = build_packages($defaults, $p);
	my $av = load_available();
	my $r;

	print "\nInstalling packages...\n";
	$r = $APK ? apk_install($av, @want) : opkg_install($av, @want);
	return $r;
}

# Installs with opkg's behaviour and messages; 255 on any error.
sub opkg_install ($av, @want) {
	my %d = dirs();
	my (%inst, %prov, %owner, @order, @out, @err);
	my $install_one = sub ($pkg) {
		$inst{$pkg->{Package}} = $pkg;
		$prov{$_->[0]} //= $pkg for provides($pkg);
		$prov{$pkg->{Package}} = $pkg;
		$owner{$_} = $pkg for words($pkg->{'Standin-Files'});
		push @order, $pkg;
		push @out, [ \*STDOUT, "Installing $pkg->{Package} "
		    . "($pkg->{Version}) to root..." ];
		opkg_download($pkg, \@out, \@err);
	};

	for my $name ('libc', 'kernel') {
		my $pkg = $av->{pkg}{$name};
		$install_one->($pkg) if $pkg && $pkg->{origin} eq 'local';
	}
	for my $name (@want) {
		opkg_install_name($av, $name, \%inst, \%prov, \%owner, \@out,
		    \@err, $install_one, $d{target});
	}
	push @out, [ \*STDOUT, "Configuring $_->{Package}." ] for @order;
	write_status($d{target}, \@order);
	if (@err) {
		push @out, [ \*STDERR, 'Collected errors:' ];
		push @out, [ \*STDERR, $_ ] for @err;
	}
	emit_paced(budget(1.2, 2.5), @out);
	return @err ? 255 : 0;
}

# The feed directory a package comes from, or undef for local ones.
sub feed_base ($pkg) {
	my $u = $pkg->{origin};

	return undef if $u eq 'local';
	$u =~ s{/(?:packages\.adb|Packages(?:\.gz)?)$}{};
	return $u;
}

# Fetches the file of a package into dl/ (http and file feeds; the
# official https ones are offline and only named), with opkg's messages.
sub opkg_download ($pkg, $out, $err) {
	my $base = feed_base($pkg);
	my ($url, $why);

	return unless defined $base;
	if (!fetchable($base)) {
		push @$out, [ \*STDOUT, "Downloading $base/$pkg->{Filename}" ];
		return;
	}
	($url, $why) = fetch_package($pkg, $base);
	push @$out, [ \*STDOUT, "Downloading $url" ] if defined $url;
	return unless defined $why;
	$url //= "$base/" . ($pkg->{Filename} // '');
	if ($why =~ /mismatch/) {
		push @$err, " * opkg_install_pkg: Package $pkg->{Package} $why."
		    . ' Either the opkg or the package index are corrupt. '
		    . "Try 'opkg update'.";
	} else {
		push @$err, " * opkg_download: Failed to download $url, "
		    . "wget returned 8.";
		push @$err, ' * opkg_install_pkg: Failed to download '
		    . "$pkg->{Package}. Perhaps you need to run 'opkg update'?";
	}
	push @$err, ' * opkg_install_cmd: Cannot install package '
	    . "$pkg->{Package}.";
}

# Fetches the files of the packages apk installs into dl/; the error
# lines of those that could not be fetched.
sub apk_download (@pkgs) {
	my @err;

	for my $p (@pkgs) {
		my $base = feed_base($p);
		next unless defined $base && fetchable($base);
		my (undef, $why) = fetch_package($p, $base);
		push @err, 'ERROR: ' . pv($p) . ': ' . ($why =~ /mismatch/ ?
		    'BAD checksum' : 'network error (check Internet '
		    . 'connection and firewall)') if defined $why;
	}
	return @err;
}

# opkg_install_by_name for one requested name.
sub opkg_install_name ($av, $name, $inst, $prov, $owner, $out, $err,
    $install_one, $root) {
	my ($pkg, @closure, @unres, %seen, $visit);

	if ($inst->{$name} || (!$av->{pkg}{$name} && $prov->{$name})) {
		my $have = $inst->{$name} // $prov->{$name};
		push @$out, [ \*STDOUT, "Package $have->{Package} "
		    . "($have->{Version}) installed in root is up to date." ];
		return;
	}
	$pkg = candidate($av, $name);
	if (!$pkg) {
		push @$out, [ \*STDOUT, "Unknown package '$name'." ];
		push @$err, ' * opkg_install_cmd: Cannot install package '
		    . "$name.";
		return;
	}
	$visit = sub ($p) {
		return if $seen{$p->{Package}}++;
		for my $group (dep_groups($p->{Depends})) {
			my $ok;
			for my $alt (@$group) {
				if ($prov->{$alt}) {
					$ok = 1;
					last;
				}
				my $c = candidate($av, $alt);
				next unless $c;
				$visit->($c);
				$ok = 1;
				last;
			}
			push @unres, $group->[0] unless $ok;
		}
		push @closure, $p unless $inst->{$p->{Package}};
	};
	$visit->($pkg);
	if (@unres) {
		my %u;
		push @$err, ' * satisfy_dependencies_for: Cannot satisfy the '
		    . "following dependencies for $pkg->{Package}:";
		push @$err, " * \t$_" for grep { !$u{$_}++ } @unres;
		push @$err, ' * opkg_install_cmd: Cannot install package '
		    . "$name.";
		return;
	}
	for my $c (@closure) {
		next if $inst->{$c->{Package}};
		my @conf = grep { $prov->{$_} } map { @$_ }
		    dep_groups($c->{Conflicts});
		if (@conf) {
			push @$err, ' * check_conflicts_for: The following '
			    . "packages conflict with $c->{Package}:";
			push @$err, " * check_conflicts_for: \t"
			    . "$prov->{$_}{Package} *" for @conf;
			push @$err, ' * opkg_install_cmd: Cannot install '
			    . "package $name.";
			return;
		}
		for my $f (words($c->{'Standin-Files'})) {
			my $o = $owner->{$f};
			next unless $o && $o->{Package} ne $c->{Package};
			push @$err, ' * check_data_file_clashes: Package '
			    . "$c->{Package} wants to install file $root$f";
			push @$err, "\tBut that file is already provided by "
			    . "package  * $o->{Package}";
			push @$err, ' * opkg_install_cmd: Cannot install '
			    . "package $name.";
			return;
		}
		$install_one->($c);
	}
}

# Installs with apk's behaviour and messages; the number of problems on
# error.
sub apk_install ($av, @want) {
	my %d = dirs();
	my (%sel, @order, %missing, @missing_order, @virtual);
	my $select;

	$select = sub ($name, $by) {
		for my $p (values %sel) {
			return if $p->{Package} eq $name;
		}
		for my $p (values %sel) {
			return if grep { $_->[0] eq $name } provides($p);
		}
		my $c = $av->{pkg}{$name};
		my $provs = $av->{prov}{$name} // [];
		if (!$c && @$provs > 1) {
			push @virtual, [ $name, $provs, $by ]
			    unless grep { $_->[0] eq $name } @virtual;
			return;
		}
		$c //= $provs->[0];
		if (!$c) {
			push @missing_order, $name unless $missing{$name};
			push @{$missing{$name}}, $by;
			return;
		}
		$sel{$c->{Package}} = $c;
		push @order, $c;
		for my $g (dep_groups($c->{Depends})) {
			$select->($g->[0], $c);
		}
	};
	for my $name ('base-files', 'libc', 'kernel') {
		my $p = $av->{pkg}{$name};
		next unless $p && $p->{origin} eq 'local';
		$sel{$name} = $p;
		push @order, $p;
	}
	$select->($_, undef) for @want;
	my @err = apk_errors(\%sel, \@order, \%missing, \@missing_order,
	    \@virtual, \@want);
	if (@err) {
		my $n = grep { /^  \S/ } @err;
		emit_paced(1.0, map { [ \*STDERR, $_ ] }
		    'ERROR: unable to select packages:', @err);
		return $n > 0 ? ($n > 255 ? 255 : $n) : 1;
	}
	my @sorted = sort { $a->{Package} cmp $b->{Package} } @order;
	my @fail = apk_download(@sorted);
	if (@fail) {
		emit_paced(1.0, map { [ \*STDERR, $_ ] } @fail);
		return @fail > 255 ? 255 : scalar @fail;
	}
	my $w = length(scalar @sorted);
	my (@out, $bytes);
	my $i = 0;
	for my $p (@sorted) {
		$i++;
		$bytes += $p->{'Installed-Size'} // 0;
		push @out, [ \*STDOUT, sprintf("(%*d/%d) Installing %s (%s)",
		    $w, $i, scalar @sorted, $p->{Package}, $p->{Version}) ];
	}
	push @out, [ \*STDOUT, sprintf('OK: %d MiB in %d packages',
	    ($bytes // 0) / 1048576, scalar @sorted) ];
	write_status($d{target}, \@sorted);
	emit_paced(budget(1.2, 2.5), @out);
	return 0;
}

# The labelled groups apk prints after "unable to select packages:".
sub apk_errors ($sel, $order, $missing, $missing_order, $virtual, $want) {
	my (@err, %world);

	%world = map { $_ => 1 } @$want;
	for my $v (@$virtual) {
		my ($name, $provs, $by) = @$v;
		push @err, "  $name (virtual):";
		push @err, '    note: please select one of the \'provided by\' '
		    . 'packages explicitly';
		push @err, '    provided by: ' . join(' ',
		    map { $_->{Package} } @$provs);
		push @err, '    required by: ' . ($by ? pv($by) . "[$name]" :
		    "world[$name]");
	}
	for my $name (@$missing_order) {
		my @req;
		push @req, "world[$name]" if $world{$name};
		push @req, map { pv($_) . "[$name]" } grep { defined }
		    @{$missing->{$name}};
		push @err, "  $name (no such package):";
		push @err, wrap_items('    required by: ', @req);
	}
	for my $p (sort { $a->{Package} cmp $b->{Package} } values %$sel) {
		my (@conf, @breaks, @sat);
		for my $q (values %$sel) {
			next if $q == $p;
			push @conf, pv($q) if grep { $_->[0] eq $p->{Package} }
			    provides($q);
			push @breaks, pv($q) . "[!$p->{Package}]" if grep {
			    $_->[0] eq $p->{Package} }
			    dep_groups($q->{Conflicts});
		}
		for my $d (provides($p)) {
			next unless defined $d->[1];
			for my $q (values %$sel) {
				next if $q == $p;
				next unless $q->{Package} eq $d->[0] ||
				    grep { $_->[0] eq $d->[0] } provides($q);
				push @conf, pv($q) . "[$d->[0]=$d->[1]]";
			}
		}
		next unless @conf || @breaks;
		push @sat, "world[$p->{Package}]" if $world{$p->{Package}};
		for my $q (sort { $a->{Package} cmp $b->{Package} }
		    values %$sel) {
			push @sat, pv($q) . "[$p->{Package}]" if grep {
			    $_->[0] eq $p->{Package} }
			    dep_groups($q->{Depends});
		}
		push @err, '  ' . pv($p) . ':';
		push @err, wrap_items('    conflicts: ', sort @conf) if @conf;
		push @err, wrap_items('    breaks: ', sort @breaks) if @breaks;
		push @err, wrap_items('    satisfies: ', @sat) if @sat;
	}
	return @err;
}

# Joins items after a label, wrapping at 80 columns like apk does.
sub wrap_items ($label, @items) {
	my $line = $label;
	my $indent = ' ' x length($label);
	my @lines;
	my $first = 1;

	for my $it (@items) {
		if (!$first && length($line) + 1 + length($it) > 80) {
			push @lines, $line;
			$line = $indent . $it;
		} else {
			$line .= ($first ? '' : ' ') . $it;
		}
		$first = 0;
	}
	push @lines, $line;
	return join("\n", @lines);
}

1;
