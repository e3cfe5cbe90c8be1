#
# StandinIB::Status: the package database of the staging root (opkg's
# status file or apk's installed database), the manifest made from it, and
# the `list_installed` step that prints it.
#
package StandinIB::Status;

use v5.36;

use Exporter qw(import);
use StandinIB::Util;
use StandinIB::Target;
use StandinIB::Index;

our @EXPORT = qw(write_status read_status manifest_text);

# Writes the package database of the staging root (opkg or apk format).
sub write_status ($root, $pkgs) {
	my $out = '';

	for my $p (@$pkgs) {
		if ($APK) {
			$out .= "P:$p->{Package}\nV:$p->{Version}\n"
			    . 'A:' . ($p->{Architecture} // 'all') . "\n"
			    . 'I:' . ($p->{'Installed-Size'} // 0) . "\n";
			$out .= "D:$p->{Depends}\n" if $p->{Depends};
			$out .= "p:$p->{Provides}\n" if $p->{Provides};
			$out .= "g:openwrt:abiversion=$p->{ABIVersion}\n"
			    if $p->{ABIVersion};
			$out .= "Y:$p->{'Standin-Services'}\n"
			    if $p->{'Standin-Services'};
			$out .= "\n";
			next;
		}
		$out .= "Package: $p->{Package}\nVersion: $p->{Version}\n";
		$out .= "Depends: $p->{Depends}\n" if $p->{Depends};
		$out .= "Provides: $p->{Provides}\n" if $p->{Provides};
		$out .= "ABIVersion: $p->{ABIVersion}\n" if $p->{ABIVersion};
		$out .= "Status: install user installed\n";
		$out .= 'Architecture: ' . ($p->{Architecture} // 'all') . "\n";
		$out .= 'Installed-Size: ' . ($p->{'Installed-Size'} // 0)
		    . "\n";
		$out .= "Standin-Services: $p->{'Standin-Services'}\n"
		    if $p->{'Standin-Services'};
		$out .= "Installed-Time: $T{SOURCE_DATE_EPOCH}\n\n";
	}
	spew($root . status_path(), $out);
	for my $p (@$pkgs) {
		for my $svc (words($p->{'Standin-Services'})) {
			spew("$root/etc/init.d/$svc", "#!/bin/sh /etc/rc.common"
			    . "\n# $svc (from $p->{Package})\nSTART=50\n");
		}
	}
}

# Where the package database lives in the root filesystem.
sub status_path {
	return $APK ? '/lib/apk/db/installed' : '/usr/lib/opkg/status';
}

# Reads the package database of the staging root.
sub read_status {
	my %d = dirs();
	my $text = slurp($d{target} . status_path()) // '';
	my @pkgs;

	return parse_packages($text, 'status') unless $APK;
	for my $st (split /\n\s*\n/, $text) {
		my %p;
		for (split /\n/, $st) {
			$p{Package} = $1 if /^P:(.*)$/;
			$p{Version} = $1 if /^V:(.*)$/;
			$p{'Installed-Size'} = $1 if /^I:(.*)$/;
			$p{'Standin-Services'} = $1 if /^Y:(.*)$/;
		}
		push @pkgs, \%p if defined $p{Package};
	}
	return @pkgs;
}

# The name with its ABI version suffix removed.
sub strip_abi ($p) {
	my $n = $p->{Package};
	my $abi = $p->{ABIVersion};

	$n =~ s/\Q$abi\E$// if defined $abi && length $abi;
	return $n;
}

# The manifest file of BIN_DIR: `name - version`, ABI names kept.
sub manifest_text {
	return join('', map { "$_->{Package} - $_->{Version}\n" }
	    sort { $a->{Package} cmp $b->{Package} } read_status());
}

# The last recipe line of `_call_manifest`: opkg list-installed or
# apk list --manifest.
sub step_list_installed {
	my @pkgs = sort { $a->{Package} cmp $b->{Package} } read_status();

	for my $p (@pkgs) {
		if ($APK) {
			print "$p->{Package} $p->{Version}\n";
		} else {
			my $n = defined env('STRIP_ABI') ? strip_abi($p) :
			    $p->{Package};
			print "$n - $p->{Version}\n";
		}
	}
	return 0;
}

1;
