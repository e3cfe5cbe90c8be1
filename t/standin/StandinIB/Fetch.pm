#
# StandinIB::Fetch: downloads, the way opkg and apk fetch: feed indexes
# and package files from http:// and file: URLs (core Perl's HTTP::Tiny;
# never https, so nothing ever leaves the machine), and the package cache
# in dl/: a package whose file there has the size and SHA256sum of its
# index stanza is not fetched again; any other is fetched into a
# temporary name in dl/, checked, and renamed into place.
#
package StandinIB::Fetch;

use v5.36;

use Exporter qw(import);
use StandinIB::Util;
use StandinIB::Target;

our @EXPORT = qw(fetchable fetch_url fetch_package);

# Seconds one fetch may take.
my $TIMEOUT = 30;

# Whether a URL is one the stand-in really fetches from.
sub fetchable ($url) {
	return $url =~ m{^(?:http://|file:)};
}

# The local path of a file: URL (relative ones below the ImageBuilder).
sub file_path ($url) {
	my ($path) = $url =~ m{^file:(?://)?(.*)$};

	$path = "$TOP/$path" unless $path =~ m{^/};
	return $path;
}

# The body of a URL, or (undef, the reason) when it cannot be fetched.
sub fetch_url ($url) {
	my ($http, $r);

	if ($url =~ m{^file:}) {
		my $data = slurp(file_path($url));
		return defined $data ? ($data) : (undef, 'No such file');
	}
	return (undef, 'Unsupported protocol') unless $url =~ m{^http://};
	require HTTP::Tiny;
	$http = HTTP::Tiny->new(timeout => $TIMEOUT, agent => 'standin-ib');
	$r = $http->get($url);
	return ($r->{content}) if $r->{success};
	return (undef, $r->{status} == 599 ? 'Network error' :
	    "HTTP $r->{status}");
}

# Whether dl/<file> holds the package a stanza describes.
sub cached ($path, $p) {
	my @st = stat($path);

	return 0 unless @st && -f _;
	return 0 if defined $p->{Size} && $p->{Size} =~ /^\d+$/ &&
	    $st[7] != $p->{Size};
	return 1 unless defined $p->{SHA256sum};
	return lc(sha256_hex(slurp($path) // '')) eq lc($p->{SHA256sum});
}

# Why fetched bytes do not match the stanza, or undef when they do.
sub mismatch ($data, $p) {
	return 'size mismatch' if defined $p->{Size} &&
	    $p->{Size} =~ /^\d+$/ && length($data) != $p->{Size};
	return 'sha256sum mismatch' if defined $p->{SHA256sum} &&
	    lc(sha256_hex($data)) ne lc($p->{SHA256sum});
	return undef;
}

# Makes sure dl/ holds the file of a package from the feed at base.
# Returns (the URL fetched or undef when the cache had it, the reason of
# a failure or undef).
sub fetch_package ($p, $base) {
	my %d = dirs();
	my $file = $p->{Filename} // '';
	my ($name) = $file =~ m{([^/]+)$};
	my $url = "$base/$file";
	my ($path, $tmp, $data, $why);

	return (undef, 'no Filename') unless defined $name &&
	    $name !~ /^\.\.?$/;
	$path = "$d{dl}/$name";
	return (undef, undef) if cached($path, $p);
	($data, $why) = fetch_url($url);
	return ($url, $why) unless defined $data;
	$why = mismatch($data, $p);
	return ($url, $why) if defined $why;
	make_path($d{dl});
	$tmp = "$d{dl}/.$name.part$$";
	open(my $fh, '>:raw', $tmp) or return ($url, "cannot write: $!");
	print $fh $data;
	close($fh) or return ($url, "cannot write: $!");
	rename($tmp, $path) or do {
		unlink($tmp);
		return ($url, "cannot rename: $!");
	};
	return ($url, undef);
}

1;
