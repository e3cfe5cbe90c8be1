# Protocol replays of the four existing clients (reference/clients.md
# §1-§4), step by step, with each client's own headers, bodies, query
# strings, preflights and polling, against asud with the stand-in mirror
# as its http:// upstream. What a client would choke on is a failure here.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep time);
use AsudTest;

my $JSON = JSON::PP->new->canonical->allow_nonref;
my @ONLY = ('23.05.4/ath79/generic', '23.05.4/x86/64',
    'SNAPSHOT/ath79/generic');

my $t = AsudTest->new(upstream => 'http', only => \@ONLY, timeout => 20);
$t->start;
my $m = $t->mirror;

# --- helpers ----------------------------------------------------------------

sub A { ref $_[0] eq 'ARRAY' ? $_[0] : [] }
sub H { ref $_[0] eq 'HASH' ? $_[0] : {} }

# A GET straight to the upstream (as OFS and owut do for profiles.json).
sub upstream_get {
	my ($url, $ua) = @_;
	my $res = HTTP::Tiny->new(timeout => 30, ($ua ? (agent => $ua) : ()))
	    ->get($url);
	$res->{json} = eval { $JSON->decode($res->{content}) };
	return $res;
}

# Epoch milliseconds: LuCI's cache-buster.
my $MS = 1700000000000;
sub ms { '?' . ++$MS }

# A preflight as a browser sends it; returns whether it would pass.
sub preflight_ok {
	my ($path, $method, $origin) = @_;
	my $pre = $t->request('OPTIONS', $path, undef, { Origin => $origin,
	    'Access-Control-Request-Method' => $method,
	    'Access-Control-Request-Headers' => 'content-type' });
	return $pre->{status} >= 200 && $pre->{status} < 300
	    && ($pre->{headers}{'access-control-allow-origin'} // '') eq '*'
	    && ($pre->{headers}{'access-control-allow-methods'} // '')
	    =~ /\b$method\b/
	    && ($pre->{headers}{'access-control-allow-headers'} // '')
	    =~ /content-type|\*/i;
}

sub cors { ($_[0]{headers}{'access-control-allow-origin'} // '') eq '*' }

# A JSON integer (not a string, not a float) as the server sent it.
sub is_int_json {
	my ($v) = @_;
	return defined $v && !ref $v && $JSON->encode([$v]) =~ /^\[-?\d+\]$/;
}

# The body's "status" is a JSON integer equal to the HTTP code.
sub int_status_ok {
	my ($res) = @_;
	my $st = H($res->{json})->{status};
	return is_int_json($st) && $st == $res->{status};
}

# The branch a LuCI or owut client derives from a version.
sub branch_of {
	my ($v) = @_;
	return 'SNAPSHOT' if $v eq 'SNAPSHOT';
	$v =~ s/-SNAPSHOT$//;
	my @f = split /\./, $v;
	return join('.', @f[0, 1]);
}

# What a router has installed at top level: the defaults and device
# packages under their current names, plus the LuCI app.
sub installed {
	my ($pj, $id, $remote) = @_;
	my @p = (@{ A($pj->{default_packages}) }, grep { !/^-/ }
	    @{ A(H(H($pj->{profiles})->{$id})->{device_packages}) },
	    'luci', 'luci-app-attendedsysupgrade');
	my %seen;
	return grep { !$seen{$_}++ && exists $remote->{$_} } @p;
}

# What the mirror offers for a release target: the router's own view of
# which packages exist (it has them installed), independent of asud.
sub mirror_packages {
	my ($vdir, $target, $arch) = @_;
	my %all;
	for my $f (glob($t->mirror_dir . "/$vdir/packages/$arch/*/index.json"),
	    $t->mirror_dir . "/$vdir/targets/$target/packages/index.json") {
		(my $rel = $f) =~ s/^\Q${\ $t->mirror_dir }\E\///;
		%all = (%all, %{ $t->mirror_json($rel)->{packages} });
	}
	return \%all;
}

# The remote package versions as owut and auc merge them.
sub remote_versions {
	my ($dir, $target, $arch, %h) = @_;
	my $ai = $t->get("/json/v1/$dir/packages/$arch-index.json", \%h);
	my $ti = $t->get("/json/v1/$dir/targets/$target/index.json", \%h);
	return ($ai, $ti, { %{ H($ai->{json}) },
	    %{ H(H($ti->{json})->{packages}) } });
}

# Polls until the answer is not 202; $each is called with every answer.
sub poll {
	my ($get, $each) = @_;
	my $deadline = time + 60;
	while (time < $deadline) {
		my $res = $get->();
		$each->($res) if $each;
		return $res unless $res->{status} == 202
		    || $res->{status} == 201;
		sleep 0.05;
	}
	return { status => 0 };
}

# Downloads an image and compares its sha256.
sub download_ok {
	my ($name, $path, $img, $h) = @_;
	my $dl = $t->get($path, $h);
	is($dl->{status}, 200, "$name: image download 200");
	is(sha256_hex($dl->{content} // ''), $img->{sha256},
	    "$name: the image's sha256 is the digest of the bytes served");
	return $dl;
}

my $dir = 'releases/23.05.4';
my $ath = $t->mirror_json("$dir/targets/ath79/generic/profiles.json");
my $x86 = $t->mirror_json("$dir/targets/x86/64/profiles.json");

# --- 1. firmware-selector ---------------------------------------------------

$t->part('ofs', sub {
	my $origin = 'http://firmware-selector.example';
	my $id = 'alfa-network_ap121f';
	# The page reads upstream's profiles.json itself (config.image_url).
	my $pj = upstream_get($m->url
	    . "/$dir/targets/ath79/generic/profiles.json");
	is($pj->{status}, 200, 'ofs: profiles.json from the downloads server');
	my $prof = H(H($pj->{json})->{profiles})->{$id} // {};
	ok((grep { /^-/ } @{ A($prof->{device_packages}) }),
	    'ofs: the profile has -pkg entries');
	my @packages = (@{ A($pj->{json}{default_packages}) },
	    @{ A($prof->{device_packages}) }, 'luci',
	    'luci-app-attendedsysupgrade');
	my %req = (profile => $id, target => 'ath79/generic',
	    packages => \@packages, defaults => '',
	    version_code => $pj->{json}{version_code}, version => '23.05.4',
	    diff_packages => JSON::PP::true, client => 'ofs/v5.1.0-3-g2d5eb23',
	    repositories => {}, repository_keys => []);
	ok(preflight_ok('/api/v1/build', 'POST', $origin),
	    'ofs: POST preflight passes');
	my $post = $t->post('/api/v1/build', \%req, { Origin => $origin });
	ok($post->{status} == 202 || $post->{status} == 200,
	    'ofs: POST accepted')
	    or diag($post->{content});
	ok(cors($post), 'ofs: POST answer readable cross-origin');
	my $hash = H($post->{json})->{request_hash} // '';
	my %labels = map { $_ => 1 } qw(init queued started container-setup
	    download-imagebuilder validate-revision validate-manifest
	    unpack-imagebuilder calculate-packages-hash building-image);
	my ($pre, $cors, $known, $rh, $n) = (1, 1, 1, 1, 0);
	my $done = poll(sub {
		$pre &&= preflight_ok("/api/v1/build/$hash", 'GET', $origin);
		return $t->get("/api/v1/build/$hash", { Origin => $origin,
		    'Content-Type' => 'application/json' });
	}, sub {
		my ($res) = @_;
		$n++;
		$cors &&= cors($res);
		return unless $res->{status} == 202;
		my $j = H($res->{json});
		(my $l = $j->{imagebuilder_status} // $j->{detail} // 'init')
		    =~ s/_/-/g;
		$known &&= $labels{$l};
		$rh &&= ($j->{request_hash} // '') eq $hash;
	});
	ok($n >= 1, 'ofs: polled');
	ok($pre, 'ofs: every poll preflight passes');
	ok($cors, 'ofs: every poll answer has Access-Control-Allow-Origin');
	ok($known, 'ofs: every 202 has a status label the page knows');
	ok($rh, 'ofs: every 202 carries the request_hash');
	is($done->{status}, 200, 'ofs: build successful');
	my $r = H($done->{json});
	ok(exists $r->{stderr} && exists $r->{stdout},
	    'ofs: stdout and stderr');
	ok(ref $r->{titles} eq 'ARRAY', 'ofs: titles is a list');
	ok(@{ A($r->{images}) } && !grep({ ref $_ ne 'HASH'
	    || grep({ !defined || ref } @{$_}{qw(name type sha256)}) }
	    @{ A($r->{images}) }), 'ofs: images with name, type, sha256');
	is($r->{target}, 'ath79/generic', 'ofs: target');
	is($r->{version_number}, '23.05.4', 'ofs: version_number');
	is($r->{version_code}, $pj->{json}{version_code}, 'ofs: version_code');
	like($r->{build_at} // '',
	    qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
	    'ofs: build_at is an ISO date');
	ok(exists $r->{build_cmd} && exists $r->{manifest},
	    'ofs: build_cmd and manifest present (custom download)');
	is($r->{bin_dir}, $hash, 'ofs: bin_dir');
	for my $img (@{ A($r->{images}) }) {
		download_ok("ofs: $img->{type}",
		    "/store/$r->{bin_dir}/$img->{name}", $img);
	}
	# An error the page shows: detail must be a string.
	for my $bad ([{ %req, packages => ['bad name'] }, 422],
	    [{ %req, version => '23.05.99' }, 400]) {
		my $res = $t->post('/api/v1/build', $bad->[0],
		    { Origin => $origin });
		is($res->{status}, $bad->[1], "ofs: a $bad->[1]");
		ok(cors($res), "ofs: the $bad->[1] is readable cross-origin");
		ok(defined H($res->{json})->{detail}
		    && !ref $res->{json}{detail},
		    "ofs: its detail is a string the page can show");
	}
});

# --- 2. LuCI ----------------------------------------------------------------

my $LUCI = 'http://192.168.1.1';

# A LuCI request(): ?<ms> on the URL, Content-Type (and so a preflight)
# when it has content, redirects followed as XHR does.
sub luci {
	my ($method, $path, $body) = @_;
	my %h = (Origin => $LUCI);
	my $ok = 1;
	if (defined $body) {
		$ok = preflight_ok($path . ms(), $method, $LUCI);
		$h{'Content-Type'} = 'application/json';
	}
	# XHR drops the body of a GET but keeps its Content-Type.
	my $res = $t->request($method, $path . ms(),
	    $method eq 'GET' ? undef : $body, \%h);
	my $hops = 0;
	while ($res->{status} == 301 && $hops++ < 3) {
		$ok &&= cors($res);
		(my $loc = $res->{headers}{location} // '') =~
		    s{^https?://[^/]+}{};
		$res = $t->request('GET', $loc, undef, { Origin => $LUCI });
		$res->{redirected} = 1;
	}
	$res->{cors_ok} = $ok && cors($res);
	return $res;
}

# The change table applied as LuCI does it, against a target revision.
sub luci_apply_changes {
	my ($changes, $rev, @pkgs) = @_;
	my ($num) = ($rev // '') =~ /^r(\d+)/;
	for my $c (@{ A($changes) }) {
		next unless defined $num && ($c->{revision} // 1e9) <= $num;
		my $i = 0;
		while ($i < @pkgs) {
			if ($pkgs[$i] eq ($c->{source} // '')) {
				if (defined $c->{target}) {
					$pkgs[$i] = $c->{target};
				} else {
					splice(@pkgs, $i, 1);
					next;
				}
			}
			$i++;
		}
	}
	return @pkgs;
}

# LuCI's build loop: POST until a 202 carries a hash, then GET.
sub luci_build {
	my ($name, $req) = @_;
	my %ok = (cors => 1, known => 1, queued => 1);
	my %pct = map { $_ => 1 } qw(init container_setup validate_revision
	    validate_manifest calculate_packages_hash building_image
	    signing_images done failed download_imagebuilder
	    unpack_imagebuilder);
	my $hash;
	my $res = poll(sub {
		return luci('POST', '/api/v1/build', $req) unless $hash;
		return luci('GET', "/api/v1/build/$hash", {});
	}, sub {
		my ($r) = @_;
		$ok{cors} &&= $r->{cors_ok};
		return unless $r->{status} == 202;
		my $j = H($r->{json});
		$hash //= $j->{request_hash};
		if (exists $j->{queue_position}) {
			$ok{queued} &&= ($j->{detail} // '') eq 'queued';
		} else {
			$ok{known} &&= $pct{ $j->{imagebuilder_status} // '' };
		}
	});
	ok($ok{cors}, "$name: every build call passes CORS (preflight too)");
	ok($ok{queued}, "$name: queue_position only with detail queued");
	ok($ok{known}, "$name: every started 202 has a known "
	    . 'imagebuilder_status');
	return $res;
}

# LuCI's image choice (overview.js): filesystem and sysupgrade type.
sub luci_image {
	my ($r, $fs, $target, $efi) = @_;
	my $want = $target =~ /^(?:armsr|loongarch|x86)\// ?
	    ($efi ? 'combined-efi' : 'combined') : 'sysupgrade|combined';
	my ($img) = grep { ($_->{filesystem} // '') eq $fs
	    && ($_->{type} // '') =~ /^(?:$want)$/ } @{ A($r->{images}) };
	return $img;
}

$t->part('luci', sub {
	# Search: a release device, 23.05.3, finds the newer release.
	my $ov = luci('GET', '/api/v1/overview');
	ok($ov->{redirected}, 'luci: /api/v1/overview?<ms> redirects');
	is($ov->{status}, 200, 'luci: the overview after the 301');
	ok($ov->{cors_ok}, 'luci: 301 and 200 readable cross-origin');
	my @cand;
	for my $v (reverse sort @{ A(H($ov->{json})->{latest}) }) {
		last if $v eq '23.05.3';
		push @cand, $v;
		last if branch_of($v) eq '23.05';
	}
	is_deeply(\@cand, ['23.05.4'], 'luci: 23.05.4 is offered');

	# Request: overview and revision in parallel, then the changes.
	my $ov2 = luci('GET', '/api/v1/overview');
	my $rev = luci('GET', '/api/v1/revision/23.05.4/ath79/generic');
	is($rev->{status}, 200, 'luci: revision 200');
	ok($rev->{cors_ok}, 'luci: revision readable cross-origin');
	is(H($rev->{json})->{revision}, $ath->{version_code},
	    'luci: the revision of the target release');
	my $changes = H(H(H($ov2->{json})->{branches})->{'23.05'})
	    ->{package_changes};
	is(ref $changes, 'ARRAY', 'luci: branch package_changes is a list');
	my @now = installed($ath, 'tplink_archer-c7-v5',
	    mirror_packages($dir, 'ath79/generic', 'mips_24kc'));
	my %old = ('firewall4' => 'firewall',
	    'libustream-mbedtls' => 'libustream-wolfssl',
	    'wpad-basic-mbedtls' => 'wpad-basic-wolfssl');
	my @router = ((map { $old{$_} // $_ } @now), 'kmod-nft-nat6');
	my @pkgs = sort(luci_apply_changes($changes, $rev->{json}{revision},
	    @router));
	is_deeply(\@pkgs, [ sort @now ],
	    'luci: the change table renames and drops what 23.05 changed');
	my $req = { client => 'luci/git-24.086.45142-09d5a2e',
	    packages => \@pkgs, profile => 'tplink,archer-c7-v5',
	    target => 'ath79/generic', version => '23.05.4',
	    diff_packages => JSON::PP::true, filesystem => 'squashfs',
	    rootfs_size_mb => undef };
	my $res = luci_build('luci', $req);
	is($res->{status}, 200, 'luci: build 200') or diag($res->{content});
	my $r = H($res->{json});
	my $img = luci_image($r, 'squashfs', 'ath79/generic', 0);
	ok($img, 'luci: a squashfs sysupgrade image');
	$img //= {};
	is($r->{id}, 'tplink_archer-c7-v5', 'luci: the comma board name '
	    . 'builds as the profile');
	is($r->{version_number}, '23.05.4', 'luci: version_number');
	is($r->{version_code}, $ath->{version_code}, 'luci: version_code');
	is($r->{target}, 'ath79/generic', 'luci: target');
	ok($r->{build_at}, 'luci: build_at');
	like($img->{sha256} // '', qr/^[0-9a-f]{64}$/, 'luci: image sha256');
	my $dl = download_ok('luci', "/store/$r->{bin_dir}/"
	    . ($img->{name} // 'none') . ms(), $img, { Origin => $LUCI,
	    'Content-Type' => 'application/x-www-form-urlencoded' });
	ok(cors($dl), 'luci: the blob download is readable cross-origin');

	# An x86 EFI device: string rootfs_size_mb, combined-efi on ext4.
	my $xr = mirror_packages($dir, 'x86/64', 'x86_64');
	my $xres = luci_build('luci x86', { client => $req->{client},
	    packages => [ sort(installed($x86, 'generic', $xr)) ],
	    profile => 'qemu-standard-pc-i440fx-piix-1996',
	    target => 'x86/64', version => '23.05.4',
	    diff_packages => JSON::PP::true, filesystem => 'ext4',
	    rootfs_size_mb => '256' });
	is($xres->{status}, 200, 'luci x86: build 200')
	    or diag($xres->{content});
	my $xj = H($xres->{json});
	is($xj->{id}, 'generic', 'luci x86: any board builds as generic');
	is(H($xj->{request})->{rootfs_size_mb}, 256,
	    'luci x86: rootfs_size_mb "256" taken as 256');
	ok((grep { /^ROOTFS_PARTSIZE=256$/ } @{ A($xj->{build_cmd}) }),
	    'luci x86: and passed to make image');
	my $ximg = luci_image($xj, 'ext4', 'x86/64', 1);
	ok($ximg, 'luci x86: an ext4 combined-efi image');
	download_ok('luci x86', "/store/$xj->{bin_dir}/"
	    . (($ximg // {})->{name} // 'none') . ms(), $ximg // {},
	    { Origin => $LUCI });

	# A snapshot device asks for the revision of its own version.
	my $sp = $t->mirror_json(
	    'snapshots/targets/ath79/generic/profiles.json');
	my $srev = luci('GET', '/api/v1/revision/SNAPSHOT/ath79/generic');
	is(H($srev->{json})->{revision}, $sp->{version_code},
	    'luci snapshot: revision');
	my ($num) = (H($srev->{json})->{revision} // '') =~ /^r(\d+)/;
	ok(defined $num && $num > 27000, 'luci snapshot: newer than r27000');

	# Errors stop the loop and show detail, a string.
	my $bad = luci('POST', '/api/v1/build', { %$req,
	    profile => 'no-such,board' });
	is($bad->{status}, 400, 'luci: unknown board 400');
	ok($bad->{cors_ok}, 'luci: the 400 passes CORS');
	like(H($bad->{json})->{detail} // '',
	    qr/^Unsupported profile: no-such_board\./,
	    'luci: detail is the readable message');
});

# --- 3. owut ----------------------------------------------------------------

# owut's status loop: HEAD with the two X-headers, GET when not 202.
sub owut_build {
	my ($name, $req, $ua) = @_;
	my %h = ('User-Agent' => $ua);
	my $post = $t->post('/api/v1/build', $req, { %h });
	ok(int_status_ok($post), "$name: POST body status is an integer "
	    . 'equal to the code') or diag($post->{content});
	my $hash = H($post->{json})->{request_hash};
	ok($hash, "$name: request_hash in the POST answer");
	return $post unless $hash && $post->{status} == 202;
	my ($head_ok, $int_ok, $no405) = (1, 1, 1);
	my $res = poll(sub {
		my $hd = $t->head("/api/v1/build/$hash", \%h);
		$no405 &&= $hd->{status} != 405;
		if ($hd->{status} == 202) {
			my $hh = $hd->{headers};
			$head_ok &&= defined $hh->{'x-imagebuilder-status'}
			    && defined $hd->{headers}{'x-queue-position'};
			return $hd;
		}
		return $t->get("/api/v1/build/$hash", \%h);
	}, sub {
		my ($r) = @_;
		$int_ok &&= int_status_ok($r) if length($r->{content} // '');
	});
	ok($no405, "$name: HEAD is answered (no 405)");
	ok($head_ok, "$name: every HEAD 202 has both X-headers");
	ok($int_ok, "$name: every body's status is the integer HTTP code");
	return $res;
}

# The checks owut makes on a finished build, then the download.
sub owut_check {
	my ($name, $res, $req, $fs, $kind) = @_;
	is($res->{status}, 200, "$name: build 200") or diag($res->{content});
	my $r = H($res->{json});
	my $rq = $r->{request};
	ok(ref $rq eq 'HASH', "$name: request object in the 200");
	ok(exists H($rq)->{$_}, "$name: request.$_") for qw(version_code
	    rootfs_size_mb defaults);
	is($r->{version_code}, $req->{version_code}, "$name: version_code "
	    . 'is the requested one');
	ok($r->{build_at} && $r->{version_number} && $r->{bin_dir}
	    && $r->{build_cmd}, "$name: build_at, version_number, bin_dir, "
	    . 'build_cmd');
	my $man = H($r->{manifest});
	my @bad = grep { ($man->{$_} // '') ne $req->{packages_versions}{$_} }
	    sort keys %{ $req->{packages_versions} // {} };
	ok(!@bad, "$name: manifest has every requested package version")
	    or diag("differ: @bad[0 .. ($#bad < 5 ? $#bad : 5)]");
	ok(!grep({ !exists $man->{$_} } @{ $req->{packages} // [] }),
	    "$name: manifest has every requested package");
	my ($img) = grep { ($_->{filesystem} // '') eq $fs
	    && ($_->{type} // '') eq $kind } @{ A($r->{images}) };
	ok($img, "$name: a $fs $kind image");
	download_ok($name, "/store/$r->{bin_dir}/" . (($img // {})->{name}
	    // 'none'), $img // {}, { 'User-Agent' => $req->{client} });
}

$t->part('owut', sub {
	my $ua = 'owut/2024.12.10~1fae7a47-r1';
	my %h = ('User-Agent' => $ua);
	my $ovr = $t->get('/json/v1/overview.json', \%h);
	is($ovr->{status}, 200, 'owut: overview.json exactly 200');
	my $ov = H($ovr->{json});
	like($ov->{upstream_url} // '', qr{^https?://}, 'owut: upstream_url');
	ok(H($ov->{server})->{max_custom_rootfs_size_mb} &&
	    H($ov->{server})->{max_defaults_length}, 'owut: server.max_*');
	my $br = H(H($ov->{branches})->{'23.05'});
	ok(!exists $br->{enabled} || $br->{enabled}, 'owut: branch enabled');
	ok(%{ H($br->{targets}) }, 'owut: branch targets non-empty');
	ok(ref $br->{package_changes} eq 'ARRAY', 'owut: package_changes');
	my ($to) = sort { $b cmp $a } grep { !/SNAPSHOT/ }
	    @{ A($br->{versions}) };
	is($to, '23.05.4', 'owut: the latest of its branch');
	(my $vdir = $br->{path} // '') =~ s/\{version\}/$to/;
	is($vdir, $dir, 'owut: release directory from path');
	my $pj = upstream_get(($ov->{upstream_url} // '')
	    . "/$vdir/targets/ath79/generic/profiles.json", $ua);
	is($pj->{status}, 200, 'owut: upstream profiles.json from '
	    . 'overview upstream_url');
	my $p = H($pj->{json});
	(my $board = 'tplink,archer-c7-v5') =~ s/,/_/;
	my ($id) = grep { $_ eq $board || grep { s/,/_/r eq $board }
	    @{ A($p->{profiles}{$_}{supported_devices}) } }
	    sort keys %{ H($p->{profiles}) };
	is($id, 'tplink_archer-c7-v5', 'owut: profile mapped');
	my ($ai, $ti, $remote) = remote_versions($vdir, 'ath79/generic',
	    $p->{arch_packages} // 'none', %h);
	is($ai->{status}, 200, 'owut: {arch}-index.json');
	is($ti->{status}, 200, 'owut: target index.json');
	my @inst = installed($ath, 'tplink_archer-c7-v5', mirror_packages($dir,
	    'ath79/generic', 'mips_24kc'));
	ok(@inst > 20 && !grep({ !defined $remote->{$_} } @inst),
	    'owut: every top-level package has a version in the indexes');
	my $req = { client => $ua, target => 'ath79/generic', profile => $id,
	    version => $to, version_code => $p->{version_code},
	    filesystem => 'squashfs', diff_packages => JSON::PP::true,
	    packages_versions => { map { $_ => $remote->{$_} } @inst } };
	owut_check('owut', owut_build('owut', $req, $ua), $req,
	    'squashfs', 'sysupgrade');

	# x86 with -S and plain packages: combined-efi.
	my ($xai, $xti, $xremote) = remote_versions($vdir, 'x86/64',
	    'x86_64', %h);
	my $xreq = { client => $ua, target => 'x86/64', profile => 'generic',
	    version => $to, version_code => $x86->{version_code},
	    filesystem => 'ext4', diff_packages => JSON::PP::true,
	    rootfs_size_mb => 300,
	    packages => [ installed($x86, 'generic',
	    mirror_packages($dir, 'x86/64', 'x86_64')) ] };
	owut_check('owut x86', owut_build('owut x86', $xreq, $ua), $xreq,
	    'ext4', 'combined-efi');
});

# --- 4. auc -----------------------------------------------------------------

$t->part('auc', sub {
	my %h = ('User-Agent' => 'auc (0.3.2)');
	my $bj = $t->get('/json/v1/branches.json', \%h);
	is($bj->{status}, 200, 'auc: branches.json 200');
	my @branches = ref $bj->{json} eq 'HASH' ? values %{ $bj->{json} }
	    : @{ A($bj->{json}) };
	ok(@branches, 'auc: branches listed');
	my $fields = !grep { my $b = $_; ref $b ne 'HASH'
	    || grep({ !exists $b->{$_} } qw(enabled name path path_packages
	    versions targets)) || ref $b->{versions} ne 'ARRAY'
	    || ref $b->{targets} ne 'HASH' } @branches;
	ok($fields, 'auc: every branch has enabled, name, path, '
	    . 'path_packages, versions, targets');
	my @mine = grep { ref $_ eq 'HASH' && $_->{enabled}
	    && index('23.05.3', $_->{name} // "\0") == 0 } @branches;
	is(scalar @mine, 1, 'auc: one branch for 23.05.3');
	my $br = $mine[0] // {};
	my $arch = H($br->{targets})->{'ath79/generic'};
	is($arch, 'mips_24kc', 'auc: targets maps the target to its arch');
	my $board = 'tplink,archer-c7-v5' =~ s/,/_/gr;
	my ($use, $path);
	for my $v (@{ A($br->{versions}) }) {
		(my $p = $br->{path} // '') =~ s/\{version\}/$v/;
		my $res = $t->get("/json/v1/$p/targets/ath79/generic/"
		    . "$board.json",
		    \%h);
		isnt($res->{status}, 500, "auc: $v profile JSON is no 500");
		my $j = H($res->{json});
		next unless $res->{status} == 200 && %$j;
		next unless $res->{content} =~ /"metadata_version"\s*:\s*1\b/
		    && ($j->{arch_packages} // '') eq $arch
		    && ref $j->{images} eq 'ARRAY'
		    && ($j->{target} // '') eq 'ath79/generic';
		($use, $path) = ($j, $p) if !$use && $v !~ /SNAPSHOT/;
	}
	ok($use, 'auc: 23.05.4 profile JSON as auc needs it');
	$use //= {};
	$path //= $dir;
	is($use->{version_code}, $ath->{version_code}, 'auc: version_code');
	is($use->{version_number}, '23.05.4', 'auc: version_number');
	my $ti = $t->get("/json/v1/$path/targets/ath79/generic/index.json",
	    \%h);
	is(H($ti->{json})->{architecture}, $arch,
	    'auc: index.json architecture');
	is(ref H($ti->{json})->{packages}, 'HASH', 'auc: index.json packages');
	my $ai = $t->get("/json/v1/$path/packages/$arch-index.json", \%h);
	my $flat = H($ai->{json});
	ok(%$flat && !grep({ !defined || ref } values %$flat),
	    'auc: {arch}-index.json is flat with string values');
	my %remote = (%$flat, %{ H(H($ti->{json})->{packages}) });
	my %pv = map { $_ => $remote{$_} }
	    grep { !/^(?:libc|librt|libpthread|kernel)$/ && exists $remote{$_} }
	    installed($ath, 'tplink_archer-c7-v5',
	    mirror_packages($dir, 'ath79/generic', 'mips_24kc'));
	ok(keys %pv > 20, 'auc: the remote lists know the installed packages');
	my $req = { version => '23.05.4', version_code => $use->{version_code},
	    target => 'ath79/generic', profile => $board,
	    diff_packages => JSON::PP::true, packages_versions => \%pv };
	my $post = $t->post('/api/v1/build', $req, \%h);
	ok($post->{status} == 202 || $post->{status} == 200,
	    'auc: POST without client accepted') or diag($post->{content});
	my $hash = H($post->{json})->{request_hash};
	ok($hash, 'auc: request_hash');
	my $qp = 1;
	my $res = poll(sub { $t->get("/api/v1/build/" . ($hash // 'x'), \%h) },
	    sub {
		my ($r) = @_;
		return unless $r->{status} == 202;
		$qp &&= defined H($r->{json})->{request_hash};
		$qp &&= is_int_json($r->{json}{queue_position})
		    if exists H($r->{json})->{queue_position};
	    });
	ok($qp, 'auc: every 202 has request_hash and an integer '
	    . 'queue_position');
	is($res->{status}, 200, 'auc: build 200') or diag($res->{content});
	my $r = H($res->{json});
	ok($r->{bin_dir}, 'auc: bin_dir');
	ok(@{ A($r->{images}) } && !grep({ my $i = $_; ref $i ne 'HASH'
	    || grep({ !defined $i->{$_} || ref $i->{$_} }
	    qw(filesystem name type sha256)) } @{ A($r->{images}) }),
	    'auc: every image has filesystem, name, type, sha256 strings');
	my ($img) = grep { ($_->{type} // '') eq 'sysupgrade'
	    && ($_->{filesystem} // '') eq 'squashfs' } @{ A($r->{images}) };
	ok($img, 'auc: the squashfs sysupgrade image');
	my $dl = download_ok('auc', "/store/$r->{bin_dir}/"
	    . (($img // {})->{name} // 'none'), $img // {}, \%h);
	is($dl->{headers}{'content-length'}, length($dl->{content} // ''),
	    'auc: Content-Length equals the size');
	ok(!defined $dl->{headers}{'transfer-encoding'}, 'auc: not chunked');
	is($r->{detail}, 'done', 'auc: detail done');
	my $m = H($r->{manifest});
	ok(!grep({ ($m->{$_} // '') ne $pv{$_} } keys %pv),
	    'auc: the manifest has the remote versions');
});

# --- the clients as the statistics see them ---------------------------------

# Finds a client name in what the stats endpoints publish.
sub stats_mention {
	my ($name) = @_;
	for my $p ('/api/v1/stats', '/api/v1/stats/summary',
	    '/api/v1/stats/clients') {
		my $res = $t->get($p);
		next unless $res->{status} == 200;
		return $p if $res->{content} =~ /"\Q$name\E"/;
	}
	return undef;
}

$t->part('stats', sub {
	ok(stats_mention('auc/0.3.2'), 'stats: auc counted as auc/0.3.2')
	    or diag('no stats endpoint names the client auc/0.3.2');
	ok(!stats_mention('auc (0.3.2)'), 'stats: never as auc (0.3.2)');
	for my $c ('luci/git-24.086.45142-09d5a2e',
	    'owut/2024.12.10~1fae7a47-r1',
	    'ofs/v5.1.0-3-g2d5eb23') {
		ok(stats_mention($c), "stats: $c counted");
	}
});

$t->stop;
is($t->{exit}, 0, 'asud stops cleanly');
$t->check_log_clean;
done_testing();
