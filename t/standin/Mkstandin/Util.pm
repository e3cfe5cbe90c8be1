#
# Mkstandin::Util: small helpers of mkstandin: files, the JSON
# encoder, deterministic numbers, version order.
#
package Mkstandin::Util;

use v5.36;

use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use JSON::PP;
use Exporter qw(import);

our @EXPORT = qw($JSON slurp spew hashnum vsort);

# The JSON encoder of the generated files (sorted keys).
our $JSON = JSON::PP->new->canonical;

# Reads a whole file or dies.
sub slurp ($path) {
	my $fh;

	open($fh, '<:raw', $path) or die "mkstandin: cannot read $path: $!\n";
	local $/;
	my $data = <$fh>;
	close($fh);
	return $data;
}

# Writes a file, creating its directory.
sub spew ($path, $data, $mode = undef) {
	my $fh;

	make_path(dirname($path));
	open($fh, '>:raw', $path) or die "mkstandin: cannot write $path: $!\n";
	print $fh $data;
	close($fh) or die "mkstandin: cannot write $path: $!\n";
	chmod($mode, $path) if defined $mode;
}

# A deterministic number from a string, for sizes and fake digests.
sub hashnum ($s, $mod) {
	return hex(substr(sha256_hex($s), 0, 8)) % $mod;
}

# Compares release version strings numerically (23.05.4 > 1.2.3).
sub vsort ($a, $b) {
	my @a = split /\./, $a;
	my @b = split /\./, $b;

	while (@a || @b) {
		my ($x, $y) = (shift(@a) // 0, shift(@b) // 0);
		my $c = ($x =~ /^\d+$/ && $y =~ /^\d+$/) ? $x <=> $y :
		    $x cmp $y;
		return $c if $c;
	}
	return 0;
}

1;
