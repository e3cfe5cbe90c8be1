#
# Mkstandin::Pkgfile: the package files of the stand-in feeds. Each is
# small but well-formed the way opkg expects an .ipk: a gzip'd tar of
# debian-binary, control.tar.gz (with the control stanza) and
# data.tar.gz. The apk flavour's .apk files have the same shape; the
# stand-in only ever reads their control. The bytes are the same on
# every run (fixed times and owners, minimal gzip headers), so the sizes
# and digests in the ImageBuilder's embedded feeds and in the mirror's
# indexes agree even when they were generated apart.
#
package Mkstandin::Pkgfile;

use v5.36;

use IO::Compress::Gzip qw(gzip $GzipError);
use Exporter qw(import);

our @EXPORT = qw(package_file);

# The control fields, in the order of a real control file.
my @CONTROL = qw(Package Version Depends Conflicts Provides Source
    SourceName License Section ABIVersion Architecture Installed-Size
    Description Standin-Services Standin-Files);

# One ustar member: the header (root-owned, mode 0644) and the padded data.
sub tar_member ($name, $data, $mtime) {
	my $h = pack('a100 a8 a8 a8 a12 a12 A8 a1 a100 a6 a2 a32 a32 a8 a8 a155',
	    $name, '0000644', '0000000', '0000000',
	    sprintf('%011o', length $data), sprintf('%011o', $mtime), ' ' x 8,
	    '0', '', 'ustar', '00', 'root', 'root', '', '', '');

	$h .= "\0" x (512 - length $h);
	substr($h, 148, 8) = sprintf('%06o', unpack('%32C*', $h)) . "\0 ";
	return $h . $data . ("\0" x ((512 - length($data) % 512) % 512));
}

# A gzip'd tar of (name, contents) pairs, with fixed metadata.
sub tar_gz ($mtime, @entries) {
	my ($raw, $out) = ('', undef);

	while (my ($name, $data) = splice(@entries, 0, 2)) {
		$raw .= tar_member($name, $data, $mtime);
	}
	$raw .= "\0" x 1024;
	gzip(\$raw => \$out, Minimal => 1)
	    or die "mkstandin: gzip: $GzipError\n";
	return $out;
}

# The bytes of the package file of one package stanza (a hash of
# Packages fields).
sub package_file ($p, $mtime) {
	my $control = '';

	for my $f (@CONTROL) {
		$control .= "$f: $p->{$f}\n" if defined $p->{$f};
	}
	return tar_gz($mtime,
	    './debian-binary' => "2.0\n",
	    './control.tar.gz' => tar_gz($mtime, './control' => $control),
	    './data.tar.gz' => tar_gz($mtime, './usr/share/standin/'
	    . "$p->{Package}" => "$p->{Package} $p->{Version}\n"));
}

1;
