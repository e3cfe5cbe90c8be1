#
# StandinIB::Check: the checks a build starts with: `_check_profile`
# (the unknown-profile message) and `_check_keys` (the local signing keys).
#
package StandinIB::Check;

use v5.36;

use StandinIB::Util;
use StandinIB::Target;

# `_check_profile`: the unknown-profile message of the real Makefile.
sub step_check_profile {
	my ($defaults, $profiles) = load_targetinfo();
	my $want = env('PROFILE');

	ensure_profiles_mk($profiles);
	return 0 unless defined $want;
	return 0 if find_profile($profiles);
	print "Profile \"$want\" does not exist!\n";
	print "Use \"make info\" to get a list of available profile names.\n";
	return 1;
}

# A fake key body of the usual length.
sub fake_key ($bytes) {
	my $raw = '';

	if (open(my $fh, '<:raw', '/dev/urandom')) {
		read($fh, $raw, $bytes);
		close($fh);
	}
	$raw .= chr(int(rand(256))) while length($raw) < $bytes;
	require MIME::Base64;
	return MIME::Base64::encode_base64($raw, '');
}

# `_check_keys`: makes the local signing keys on first use.
sub step_check_keys {
	my @lines;

	return 0 unless ($CONFIG{CONFIG_SIGNATURE_CHECK} // '') eq 'y';
	if ($APK) {
		my $sec = "$TOP/keys/local-private-key.pem";
		my $pub = "$TOP/keys/local-public-key.pem";
		return 0 if -s $sec && -s $pub;
		push @lines, [ \*STDERR, 'Generate local signing keys...' ];
		spew($sec, "untrusted comment: Local build key\n"
		    . "-----BEGIN EC PRIVATE KEY-----\n" . fake_key(121)
		    . "\n-----END EC PRIVATE KEY-----\n");
		spew($pub, "untrusted comment: Local build key\n"
		    . "-----BEGIN PUBLIC KEY-----\n" . fake_key(91)
		    . "\n-----END PUBLIC KEY-----\n");
		emit_paced(0.3, @lines);
		return 0;
	}
	if (!-s "$TOP/key-build" || !-s "$TOP/key-build.pub") {
		my $fp = substr(sha256_hex(fake_key(16)), 0, 16);
		push @lines, [ \*STDERR, 'Generate local signing keys...' ];
		spew("$TOP/key-build", "untrusted comment: private key $fp\n"
		    . fake_key(104) . "\n");
		spew("$TOP/key-build.pub", "untrusted comment: Local build "
		    . "key\n" . fake_key(42) . "\n");
		copy("$TOP/key-build.pub", "$TOP/keys/$fp");
	}
	if (!-s "$TOP/key-build.ucert") {
		push @lines, [ \*STDERR, 'Generate local certificate...' ];
		spew("$TOP/key-build.ucert", fake_key(200));
	}
	emit_paced(0.3, @lines);
	return 0;
}

1;
