# TestFile: the small file and port helpers the test modules share.
#
#   TestFile::spew($path, $data);       # writes, dies on failure
#   my $text = TestFile::slurp($path);  # reads, '' if it cannot
#   my $port = TestFile::free_port;     # free on 127.0.0.1 right now
package TestFile;

use strict;
use warnings;
use IO::Socket::INET;

# A port nobody listens on now.
sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Listen => 1) or die "socket: $!";
	my $p = $s->sockport;
	close $s;
	return $p;
}

# Writes a file.
sub spew {
	my ($path, $data) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $data;
	close($fh) or die "$path: $!";
}

# Reads a file, or returns ''.
sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	return scalar(<$fh>) // '';
}

1;
