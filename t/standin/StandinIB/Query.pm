#
# StandinIB::Query: the steps that only look at the packages:
# `package_list`, `package_depends` and `package_whatdepends`.
#
package StandinIB::Query;

use v5.36;

use StandinIB::Util;
use StandinIB::Target;
use StandinIB::Index;
use StandinIB::Feeds;

# `package_list`: every available package with its size.
sub step_package_list {
	my $av;

	step_package_reload();
	$av = load_available();

	for my $p (sort { $a->{Package} cmp $b->{Package} }
	    values %{$av->{pkg}}) {
		next if $p->{origin} eq 'local';
		my $desc = $p->{Description} // '';
		$desc =~ s/\n.*//s;
		$desc =~ s/^\s+//;
		print "$p->{Package} - $p->{Version} - ",
		    $p->{'Installed-Size'} // 0, " - $desc\n";
	}
	return 0;
}

# The PACKAGE variable, or the real "not set" message.
sub need_package ($what) {
	my $p = env('PACKAGE');

	return $p if defined $p;
	print "Variable `PACKAGE` is not set but required by `$what`\n";
	return undef;
}

# `package_depends`: opkg depends -A, or apk info --depends.
sub step_depends {
	my $name = need_package('package_depends') // return 1;
	my $av;

	step_package_reload();
	$av = load_available();
	my $p = candidate($av, $name) or return 0;
	my @deps = map { $_->[0] } dep_groups($p->{Depends});
	if ($APK) {
		print pv($p), " depends on:\n";
		print "$_\n" for @deps;
		print "\n";
	} else {
		print "$p->{Package} depends on:\n";
		print "\t$_\n" for @deps;
	}
	return 0;
}

# `package_whatdepends`: opkg whatdepends -A, or apk list --depends.
sub step_whatdepends {
	my $name = need_package('whatdepends') // return 1;
	my $av;
	my @users;

	step_package_reload();
	$av = load_available();
	for my $q (sort { $a->{Package} cmp $b->{Package} }
	    values %{$av->{pkg}}) {
		push @users, $q if grep { $_->[0] eq $name }
		    dep_groups($q->{Depends});
	}
	if ($APK) {
		for my $q (@users) {
			print pv($q), ' ', $q->{Architecture} // 'all', ' {',
			    $q->{SourceName} // $q->{Package}, '} (',
			    $q->{License} // 'GPL-2.0', ")\n";
		}
		return 0;
	}
	print "Root set:\n  $name\nWhat depends on root set\n";
	print "\t$_->{Package} $_->{Version}\tdepends on $name\n" for @users;
	return 0;
}

1;
