# The reference server's black-box cases (asu-api.md §8.3) with their exact
# texts, against the stand-in ImageBuilders and the stand-in downloads
# mirror served over http://, then the main ones again over file://.
# Expected values come from the mirror's files, not from asud.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);
use AsudTest;

my $JSON = JSON::PP->new->canonical->allow_nonref;
my %BRANCH_1_2 = (path => 'releases/{version}', enabled => 'true',
    snapshot => 'false', branch_off_rev => 1);
my @ONLY = ('1.2.3/testtarget/testsubtarget', '23.05.4/ath79/generic',
    '23.05.4/x86/64', 'SNAPSHOT/ath79/generic');
my @ALLOW = ('https://downloads.openwrt.org/releases',
    'https://feed.example.org/owrt/');
my %BASE = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');
my $MS = '?1700000000000';
my $PATTERN = q{String should match pattern '^[\w.,-]*$'};

# The reference's package-change table (asu-api.md §4.1), in its order.
my @CHANGES = (
	[ 'firewall', 'firewall4', 18611, 0 ],
	[ 'kmod-nft-nat6', undef, 20282, 1 ],
	[ 'libustream-wolfssl', 'libustream-mbedtls', 21994, 0 ],
	[ 'px5g-wolfssl', 'px5g-mbedtls', 21994, 0 ],
	[ 'wpad-basic-wolfssl', 'wpad-basic-mbedtls', 21994, 0 ],
	[ 'luci-app-diag-core', undef, 25984, 1 ],
	[ 'auc', 'owut', 26792, 0 ],
	[ 'luci-app-opkg', 'luci-app-package-manager', 27897, 0 ],
	[ 'opkg', 'apk-mbedtls', 28056, 0 ],
);
my %DEFAULT_BRANCHES = ('SNAPSHOT' => undef, '25.12' => 32295,
    '24.10' => 27990, '23.05' => 23069, '22.03' => 19160, '21.02' => 15812);

# --- helpers ----------------------------------------------------------------

# Whatever the server sent, something safe to dereference.
sub A { ref $_[0] eq 'ARRAY' ? $_[0] : [] }
sub H { ref $_[0] eq 'HASH' ? $_[0] : {} }

# The reference's branch of a version (asu-api.md §3 item 4).
sub branch_of {
	my ($v, $branches) = @_;
	return $v if exists $branches->{$v};
	return $1 if $v =~ /^(.*)-SNAPSHOT$/;
	return $1 if $v =~ /^(.*)\.[^.]*$/;
	return $v;
}

# latest and versions as the reference derives them from .versions.json
# for the configured branches (name => enabled).
sub expected_versions {
	my ($vj, $branches) = @_;
	my $ok = sub {
		my ($v) = @_;
		return grep { $branches->{$_} && index($v, $_) == 0 }
		    keys %$branches;
	};
	my (@latest, @versions, %seen);
	for my $v ($vj->{upcoming_version}, $vj->{stable_version},
	    $vj->{oldstable_version}) {
		push @latest, $v if $v && !$seen{$v}++ && $ok->($v);
	}
	%seen = ();
	for my $v ($vj->{upcoming_version}, @{ $vj->{versions_list} },
	    'SNAPSHOT', map { "$_-SNAPSHOT" } grep { $_ ne 'SNAPSHOT' }
	    sort keys %$branches) {
		push @versions, $v if $v && !$seen{$v}++ && $ok->($v);
	}
	my $key = sub { (my $k = $_[0]) =~ s/\.0-rc/-rc/; $k };
	@versions = sort { $key->($b) cmp $key->($a) } @versions;
	return (\@latest, \@versions);
}

# One package change as text, whatever null/absent style the server uses.
sub change_text {
	my ($c) = @_;
	return join('|', $c->{source} // '', $c->{target} // '',
	    $c->{revision} // '', $c->{mandatory} ? 1 : 0) if ref $c eq 'HASH';
	return join('|', $c->[0], $c->[1] // '', $c->[2], $c->[3])
	    if ref $c eq 'ARRAY';
	return 'not an object: ' . ($c // 'null');
}

sub cors_ok {
	my ($res, $name) = @_;
	is($res->{headers}{'access-control-allow-origin'}, '*',
	    "$name: Access-Control-Allow-Origin *");
}

sub is_400 {
	my ($res, $msg, $name) = @_;
	is($res->{status}, 400, "$name: 400");
	is_deeply($res->{json}, { detail => $msg, status => 400 },
	    "$name: exact body") or diag($res->{content});
}

# A 422: readable string detail, the reference's entry first under errors.
sub is_422 {
	my ($res, $want, $name) = @_;
	is($res->{status}, 422, "$name: 422");
	my $j = ref $res->{json} eq 'HASH' ? $res->{json} : {};
	is($j->{status}, 422, "$name: status in the body");
	ok(defined $j->{detail} && !ref $j->{detail} && length $j->{detail},
	    "$name: detail is a readable string");
	my $e = ref $j->{errors} eq 'ARRAY' ? $j->{errors}[0] : undef;
	ok(ref $e eq 'HASH', "$name: the list is under errors")
	    or return diag($res->{content});
	for my $k (sort keys %$want) {
		is_deeply($e->{$k}, $want->{$k}, "$name: $k");
	}
}

sub location_is {
	my ($res, $path, $name) = @_;
	is($res->{status}, 301, "$name: 301");
	like($res->{headers}{location} // '',
	    qr{^(?:http://127\.0\.0\.1:\d+)?\Q$path\E$},
	    "$name: Location $path");
}

# The reference's profile JSON: profiles.json without profiles, merged
# with the profile, plus id and build_at (UTC, from source_date_epoch).
sub check_profile_json {
	my ($res, $pj, $id, $name) = @_;
	is($res->{status}, 200, "$name: 200");
	my $got = ref $res->{json} eq 'HASH' ? $res->{json} : {};
	my %want = (%$pj, %{ $pj->{profiles}{$id} }, id => $id);
	delete $want{profiles};
	is_deeply([ map { $got->{$_} } sort keys %want ],
	    [ map { $want{$_} } sort keys %want ],
	    "$name: every upstream field, the profile's and id");
	ok(!exists $got->{profiles}, "$name: no profiles list");
	my $at = strftime('%Y-%m-%dT%H:%M:%S',
	    gmtime($pj->{source_date_epoch}));
	like($got->{build_at} // '', qr/^\Q$at\E(?:\.\d+)?Z$/,
	    "$name: build_at is source_date_epoch in UTC");
	like($res->{content}, qr/"metadata_version"\s*:\s*1\b/,
	    "$name: metadata_version is the integer 1");
}

# The merged feeds of one architecture, as {arch}-index.json should be.
sub expected_arch_index {
	my ($t, $dir, $arch) = @_;
	my %all;
	my $conf = $t->mirror_file("$dir/packages/$arch/feeds.conf") // '';
	for my $line (split /\n/, $conf) {
		my (undef, $feed) = split ' ', $line;
		next unless defined $feed;
		my $idx = $t->mirror_json(
		    "$dir/packages/$arch/$feed/index.json");
		%all = (%all, %{ H($idx->{packages}) });
	}
	return \%all;
}

# The builds-per-day total of one dataset (all 30 days: no midnight race).
sub day_total {
	my ($t, $label) = @_;
	my $j = $t->get('/api/v1/builds-per-day')->{json};
	return undef unless ref $j eq 'HASH' && ref $j->{datasets} eq 'ARRAY';
	my ($d) = grep { ($_->{label} // '') eq $label } @{ $j->{datasets} };
	return undef unless $d && ref $d->{data} eq 'ARRAY';
	my $sum = 0;
	$sum += $_ for @{ $d->{data} };
	return $sum;
}

# Waits until nothing is queued or running.
sub wait_idle {
	my ($t) = @_;
	my $deadline = time + 30;
	while (time < $deadline) {
		my $j = $t->get('/api/v1/queue')->{json};
		return 1 if ref $j eq 'HASH' && defined $j->{queued}
		    && $j->{queued} == 0 && ($j->{running} // 1) == 0;
		sleep 0.1;
	}
	return 0;
}

# Adds version NEW to the mirror as a copy of OLD's tree.
sub add_release {
	my ($t, $old, $new) = @_;
	my $m = $t->mirror_dir;
	system('cp', '-a', "$m/releases/$old", "$m/releases/$new") == 0
	    or die "cp failed";
	for my $pj (glob("$m/releases/$new/targets/*/*/profiles.json")) {
		(my $rel = $pj) =~ s/^\Q$m\E\///;
		my $j = $t->mirror_json($rel);
		$j->{version_number} = $new;
		$t->write_mirror_json($rel, $j);
	}
	my $vj = $t->mirror_json('.versions.json');
	push @{ $vj->{versions_list} }, $new;
	$t->write_mirror_json('.versions.json', $vj);
}

# --- the overview and the metadata files ------------------------------------

# overview.json, branches.json and latest.json against the mirror.
sub check_overview {
	my ($t, $label, %o) = @_;
	my $ov = $t->get('/json/v1/overview.json');
	is($ov->{status}, 200, "$label overview.json 200");
	cors_ok($ov, "$label overview.json");
	my $j = ref $ov->{json} eq 'HASH' ? $ov->{json} : {};
	my %enabled = map { $_ => 1 } keys %DEFAULT_BRANCHES, '1.2';
	$enabled{$_} = 0 for @{ A($o{disabled}) };
	my ($latest, $versions) = expected_versions(
	    $t->mirror_json('.versions.json'), \%enabled);
	is_deeply($j->{latest}, $latest, "$label latest from .versions.json");
	is($j->{upstream_url}, $t->upstream_url, "$label upstream_url");
	my $s = H($j->{server});
	ok(defined $s->{$_} && !ref $s->{$_}, "$label server.$_")
	    for qw(version contact);
	is_deeply($s->{repository_allow_list}, $o{allow_list},
	    "$label server.repository_allow_list");
	ok(JSON::PP::is_bool($s->{allow_defaults})
	    && !!$s->{allow_defaults} == !!$o{allow_defaults},
	    "$label server.allow_defaults is the boolean of the config");
	is($s->{max_custom_rootfs_size_mb}, $o{max_rootfs} // 1024,
	    "$label server.max_custom_rootfs_size_mb");
	is($s->{max_defaults_length}, $o{max_defaults} // 20480,
	    "$label server.max_defaults_length");
	my $br = ref $j->{branches} eq 'HASH' ? $j->{branches} : {};
	for my $name (sort keys %enabled) {
		my $b = $br->{$name};
		ok(ref $b eq 'HASH', "$label branch $name listed") or next;
		is($b->{name}, $name, "$label branch $name: name");
		ok(JSON::PP::is_bool($b->{enabled})
		    && !!$b->{enabled} == !!$enabled{$name},
		    "$label branch $name: enabled");
		ok(JSON::PP::is_bool($b->{snapshot})
		    && !!$b->{snapshot} == ($name eq 'SNAPSHOT'),
		    "$label branch $name: snapshot");
		is($b->{path}, $name eq 'SNAPSHOT' ? 'snapshots'
		    : 'releases/{version}', "$label branch $name: path");
		ok(exists $b->{path_packages},
		    "$label branch $name: path_packages");
		my $rev = $name eq '1.2' ? 1 : $DEFAULT_BRANCHES{$name};
		if (defined $rev) {
			is($b->{branch_off_rev}, $rev,
			    "$label branch $name: branch_off_rev");
		} else {
			ok(!defined $b->{branch_off_rev},
			    "$label branch $name: no branch_off_rev");
		}
		is_deeply([ map { change_text($_) }
		    @{ ref $b->{package_changes} eq 'ARRAY'
		    ? $b->{package_changes} : [ { source => 'MISSING' } ] } ],
		    [ map { change_text($_) } grep { !defined $rev
		    || $_->[2] <= $rev } @CHANGES ],
		    "$label branch $name: package_changes");
		my @want = $enabled{$name} ? grep {
		    branch_of($_, \%enabled) eq $name } @$versions : ();
		is_deeply($b->{versions}, \@want,
		    "$label branch $name: versions");
	}
	for my $p (['1.2', 'releases/1.2.3'], ['23.05', 'releases/23.05.4'],
	    ['SNAPSHOT', 'snapshots']) {
		my $want = $t->mirror_json("$p->[1]/.targets.json");
		ok(%$want, "mirror has targets for $p->[0]");
		is_deeply($br->{$p->[0]}{targets}, $want,
		    "$label branch $p->[0]: targets from .targets.json");
	}
	my $bj = $t->get('/json/v1/branches.json');
	is($bj->{status}, 200, "$label branches.json 200");
	is(ref $bj->{json}, 'ARRAY', "$label branches.json is a list");
	is_deeply([ sort { $a->{name} cmp $b->{name} } @{ A($bj->{json}) } ],
	    [ map { $br->{$_} } sort keys %$br ],
	    "$label branches.json holds the overview's branch objects");
	my $lj = $t->get('/json/v1/latest.json');
	is($lj->{status}, 200, "$label latest.json 200");
	is_deeply($lj->{json}, { latest => $latest }, "$label latest.json");
	return $j;
}

# The per-profile JSON, index.json, {arch}-index.json and revision.
sub check_metadata {
	my ($t, $label) = @_;
	my $dir = 'releases/23.05.4';
	my $pj = $t->mirror_json("$dir/targets/ath79/generic/profiles.json");
	check_profile_json($t->get("/json/v1/$dir/targets/ath79/generic/"
	    . 'tplink_archer-c7-v5.json'), $pj, 'tplink_archer-c7-v5',
	    "$label profile JSON");
	my $x = $t->mirror_json("$dir/targets/x86/64/profiles.json");
	check_profile_json($t->get("/json/v1/$dir/targets/x86/64/generic.json"),
	    $x, 'generic', "$label x86 generic profile JSON");
	my $un = $t->get("/json/v1/$dir/targets/ath79/generic/"
	    . 'no_such-board.json');
	is($un->{status}, 200, "$label unknown profile: 200");
	is_deeply($un->{json}, {}, "$label unknown profile: {}");
	my $nf = $t->get("/json/v1/$dir/targets/nosuch/target/x.json");
	ok($nf->{status} == 404 || $nf->{status} == 200,
	    "$label profile JSON of a target upstream lacks: no 500")
	    or diag("got $nf->{status}: $nf->{content}");
	ok(ref $nf->{json} eq 'HASH', "$label and a JSON body");

	my $ti = $t->mirror_json(
	    "$dir/targets/ath79/generic/packages/index.json");
	my $idx = $t->get("/json/v1/$dir/targets/ath79/generic/index.json");
	is($idx->{status}, 200, "$label target index.json 200");
	is_deeply($idx->{json}, { architecture => $ti->{architecture},
	    packages => $ti->{packages} }, "$label target index.json");
	my $sp = $t->mirror_json(
	    'snapshots/targets/ath79/generic/profiles.json');
	my $k = $sp->{linux_kernel};
	my $km = $t->mirror_json('snapshots/targets/ath79/generic/kmods/'
	    . "$k->{version}-$k->{release}-$k->{vermagic}/index.json");
	my $st = $t->mirror_json(
	    'snapshots/targets/ath79/generic/packages/index.json');
	ok($km && %{ $km->{packages} },
	    'the mirror has a SNAPSHOT kmods index');
	my $sidx = $t->get('/json/v1/snapshots/targets/ath79/generic/'
	    . 'index.json');
	is_deeply($sidx->{json}, { architecture => $st->{architecture},
	    packages => { %{ $st->{packages} }, %{ $km->{packages} } } },
	    "$label SNAPSHOT index.json merges the kmods index");

	my $ai = $t->get("/json/v1/$dir/packages/mips_24kc-index.json");
	is($ai->{status}, 200, "$label {arch}-index.json 200");
	my $want = expected_arch_index($t, $dir, 'mips_24kc');
	ok(keys %$want > 10, 'the mirror has feeds for mips_24kc');
	is_deeply($ai->{json}, $want,
	    "$label {arch}-index.json: all feeds, flat");
	ok(!grep({ ref $_ } values %{ H($ai->{json}) }),
	    "$label {arch}-index.json values are strings");

	my $rev = $t->get('/api/v1/revision/23.05.4/ath79/generic');
	is($rev->{status}, 200, "$label revision 200");
	is_deeply($rev->{json}, { revision => $pj->{version_code} },
	    "$label revision is upstream's version_code");
	cors_ok($rev, "$label revision");
	is_deeply($t->get('/api/v1/revision/SNAPSHOT/ath79/generic')->{json},
	    { revision => $sp->{version_code} }, "$label SNAPSHOT revision");
	is_400($t->get('/api/v1/revision/invalid-version/ath79/generic'),
	    'Unsupported version: invalid-version',
	    "$label revision of a bad version");
	my $rnf = $t->get('/api/v1/revision/23.05.4/nosuch/target');
	is($rnf->{status}, 404,
	    "$label revision of a target upstream lacks: 404");
	is_deeply($rnf->{json}, { status => 404, detail =>
	    'Failed to fetch revision for 23.05.4/nosuch/target' },
	    "$label and the reference's body");
}

# A release that appears upstream while asud runs is accepted at once.
sub check_new_release {
	my ($t, $label, $new) = @_;
	my $mark = $t->mirror ? $t->mirror->mark : 0;
	add_release($t, '1.2.3', $new);
	my $res = $t->post('/api/v1/build', { %BASE, version => $new,
	    packages => ['new-release'] });
	is($res->{status}, 202, "$label $new, added upstream, is accepted")
	    or diag($res->{content});
	if ($t->mirror) {
		ok($t->mirror->count('/.versions.json', since => $mark) >= 1,
		    "$label the validation miss fetched .versions.json again");
	}
	my $ov = H($t->get('/json/v1/overview.json')->{json});
	ok((grep { $_ eq $new } @{ A($ov->{branches}{'1.2'}{versions}) }),
	    "$label overview lists $new now");
	return $res->{json}{request_hash};
}

# All §3 400 messages, in the reference's order of checks.
sub check_400 {
	my ($t, $label, %o) = @_;
	my $p = sub { $t->post('/api/v1/build', { %BASE, @_ }) };
	my $url = 'https://elsewhere.example.com/feed';
	if (!$o{allow_defaults}) {
		is_400($p->(defaults => 'echo hi'),
		    'Handling `defaults` not enabled on server',
		    "$label defaults not enabled");
		is_400($p->(defaults => 'echo hi', distro => 'x',
		    repositories => { a => $url }),
		    'Handling `defaults` not enabled on server',
		    "$label defaults is checked first");
	}
	is_400($p->(repositories => { a => $url }),
	    "Repository not allowed: $url", "$label repository off the list");
	is_400($p->(repositories => { a => $url }, distro => 'x'),
	    "Repository not allowed: $url",
	    "$label repositories before distro");
	is_400($p->(distro => 'foo'), 'Unsupported distro: foo',
	    "$label distro");
	is_400($p->(distro => 'foo', version => '10.10.10'),
	    'Unsupported distro: foo', "$label distro before branch");
	is_400($p->(version => '10.10.10'), 'Unsupported branch: 10.10.10',
	    "$label branch");
	is_400($p->(version => '99.99-SNAPSHOT'),
	    'Unsupported branch: 99.99-SNAPSHOT',
	    "$label snapshot of no branch");
	is_400($p->(version => '1.2.4'), 'Unsupported version: 1.2.4',
	    "$label version in a configured branch but not upstream");
	is_400($p->(version => '1.2.4', target => 'no/such'),
	    'Unsupported version: 1.2.4', "$label version before target");
	my $tmsg = 'Unsupported target: %s. The requested target was either '
	    . 'dropped, is still being built or is not supported by the '
	    . 'selected version. Please check the forums or try again later.';
	is_400($p->(target => 'no/such'), sprintf($tmsg, 'no/such'),
	    "$label target");
	is_400($p->(version => '23.05.4', target => 'testtarget/testsubtarget'),
	    sprintf($tmsg, 'testtarget/testsubtarget'),
	    "$label target of another version");
	is_400($p->(version => '23.05-SNAPSHOT', target => 'ath79/generic',
	    profile => 'tplink_archer-c7-v5'), sprintf($tmsg, 'ath79/generic'),
	    "$label a branch snapshot is a known version (its targets are "
	    . 'not)');
	my $pmsg = 'Unsupported profile: %s. The requested profile was either '
	    . 'dropped or never existed. Please check the forums for more '
	    . 'information.';
	is_400($p->(profile => 'nosuchprofile'),
	    sprintf($pmsg, 'nosuchprofile'), "$label profile");
	is_400($p->(version => '23.05.4', target => 'ath79/generic',
	    profile => 'no,such-board'), sprintf($pmsg, 'no_such-board'),
	    "$label profile with , turned into _");
	if ($o{disabled}) {
		is_400($p->(version => '22.03.5'),
		    'Unsupported version: 22.03.5',
		    "$label a disabled branch has no versions");
	}
}

# The 422 schema cases of asu-api.md §1.2, texts as Pydantic writes them.
sub check_422 {
	my ($t, $label, %o) = @_;
	my $p = sub { $t->post('/api/v1/build', @_) };
	my $max = $o{max_defaults} // 20480;
	is_422($p->(''), { type => 'missing', loc => ['body'],
	    msg => 'Field required', input => undef }, "$label empty body");
	for my $f (qw(version target profile)) {
		my %r = %BASE;
		delete $r{$f};
		is_422($p->(\%r), { type => 'missing', loc => ['body', $f],
		    msg => 'Field required' }, "$label missing $f");
	}
	is_422($p->({ %BASE, packages => 'testpackage' }), {
	    type => 'list_type',
	    loc => ['body', 'packages'], msg => 'Input should be a valid list',
	    input => 'testpackage' }, "$label string packages");
	is_422($p->({ %BASE, rootfs_size_mb => 0 }), {
	    type => 'greater_than_equal', loc => ['body', 'rootfs_size_mb'],
	    msg => 'Input should be greater than or equal to 1',
	    ctx => { ge => 1 } }, "$label rootfs_size_mb 0");
	my $rmax = $o{max_rootfs} // 1024;
	is_422($p->({ %BASE, rootfs_size_mb => $rmax + 1 }), {
	    type => 'less_than_equal', loc => ['body', 'rootfs_size_mb'],
	    msg => "Input should be less than or equal to $rmax",
	    ctx => { le => $rmax } }, "$label rootfs_size_mb too big");
	is_422($p->({ %BASE, defaults => 'x' x ($max + 1) }), {
	    type => 'string_too_long', loc => ['body', 'defaults'],
	    msg => "String should have at most $max characters" },
	    "$label defaults too long");
	is_422($p->({ %BASE, packages => ['test1', '+luci'] }), {
	    type => 'string_pattern_mismatch', loc => ['body', 'packages', 1],
	    msg => $PATTERN }, "$label a + package");
	is_422($p->({ %BASE, profile => 'a b' }), {
	    type => 'string_pattern_mismatch', loc => ['body', 'profile'],
	    msg => $PATTERN }, "$label profile pattern");
	is_422($p->({ %BASE, target => 'ath79-generic' }), {
	    type => 'string_pattern_mismatch', loc => ['body', 'target'],
	    msg => q{String should match pattern '^[\w]*/[\w]*$'} },
	    "$label target pattern");
	is_422($p->({ %BASE, packages_versions => { luci => '1 2' } }), {
	    type => 'string_pattern_mismatch',
	    loc => ['body', 'packages_versions', 'luci'],
	    msg => q{String should match pattern '^[\w+.,~-]*$'} },
	    "$label packages_versions value pattern");
	is_422($p->({ %BASE, repositories => {
	    'a b' => 'https://x.org/y' } }), {
	    type => 'string_pattern_mismatch',
	    loc => ['body', 'repositories', 'a b', '[key]'],
	    msg => q{String should match pattern '^[\w.-]+$'} },
	    "$label repository name pattern");
	is_422($p->({ %BASE, repositories => { "a\nb" => 'https://x.org/y' } }),
	    { type => 'string_pattern_mismatch' }, "$label newline in a name");
	is_422($p->({ %BASE, repositories => { a => 'ftp://x.org/y' } }), {
	    type => 'string_pattern_mismatch',
	    loc => ['body', 'repositories', 'a'],
	    msg => q{String should match pattern '^https?://\S+$'} },
	    "$label repository URL scheme");
	is_422($p->({ %BASE, repositories => {
	    a => "https://x.org/y\nsrc/gz z" } }),
	    { type => 'string_pattern_mismatch' }, "$label newline in a URL");
	is_422($p->({ %BASE, filesystem => 'fat32' }), {
	    type => 'literal_error',
	    loc => ['body', 'filesystem'], msg => "Input should be 'squashfs', "
	    . "'ext4', 'ubifs', 'erofs', 'jffs2', 'jffs2-nand', 'targz' or "
	    . "'cpiogz'" }, "$label filesystem");
	is_422($p->({ %BASE, repositories_mode => 'merge' }), {
	    type => 'literal_error', loc => ['body', 'repositories_mode'],
	    msg => "Input should be 'append' or 'replace'" },
	    "$label repositories_mode");
}

# The build cases of §8.3 that need an ImageBuilder.
sub check_builds {
	my ($t, $label) = @_;
	my $post = $t->post('/api/v1/build',
	    { %BASE, packages => ['test1', 'test2'] });
	is($post->{status}, 202, "$label POST 202");
	my $hash = $post->{json}{request_hash} // '';
	my $done = $t->wait_build($hash);
	my $r = H($done->{json});
	is($done->{status}, 200, "$label build 200");
	is($r->{manifest}{test1}, '1.0', "$label manifest test1 1.0");
	is($r->{id}, 'testprofile', "$label id");
	is($r->{bin_dir}, $hash, "$label bin_dir is the request hash");
	is($r->{detail}, 'done', "$label detail done");
	is($r->{imagebuilder_status}, 'done',
	    "$label imagebuilder_status done");
	ok(ref $r->{build_cmd} eq 'ARRAY', "$label build_cmd");
	ok(length($r->{images}[0]{name} // ''), "$label images[0].name");
	is($done->{headers}{'x-imagebuilder-status'}, 'done',
	    "$label X-Imagebuilder-Status");
	is($done->{headers}{'x-queue-position'}, '0',
	    "$label X-Queue-Position");
	my $head = $t->head("/api/v1/build/$hash");
	is($head->{status}, 200, "$label HEAD 200");
	is($head->{headers}{'x-imagebuilder-status'}, 'done',
	    "$label HEAD status header");
	is($head->{headers}{'x-queue-position'}, '0',
	    "$label HEAD position header");
	is($head->{content} // '', '', "$label HEAD has no body");
	return ($hash, $r);
}

# §8.3 build and cache cases beyond the basic one.
sub check_build_cases {
	my ($t, $label, $hash, $r) = @_;
	my %v = (%BASE, packages => [qw(test1 zzz test2 aaa)],
	    diff_packages => JSON::PP::true);
	my $d = $t->post('/api/v1/build', \%v);
	is($d->{json}{request_hash},
	    '1c4a79c6b711a576996cf9a5e7046a4581008c4466574096266f0e6ea4208fbc',
	    "$label request hash vector (diff_packages true)");
	is($t->post('/api/v1/build', { %v,
	    packages => [qw(aaa zzz test1 test2)] })
	    ->{json}{request_hash}, $d->{json}{request_hash},
	    "$label package order does not change the hash");
	is($t->post('/api/v1/build', { %v, diff_packages => JSON::PP::false })
	    ->{json}{request_hash},
	    'c5a849e05b60611b465042594fc3489a44f7695c3d09e36433a577ee772ad7b7',
	    "$label request hash vector (diff_packages false)");
	my $dd = $t->wait_build($d->{json}{request_hash});
	is(A($dd->{json}{build_cmd})->[3], 'PACKAGES=-base-files -busybox '
	    . '-dnsmasq -dropbear -firewall -fstools -ip6tables -iptables '
	    . '-kmod-ath9k -kmod-gpio-button-hotplug -kmod-ipt-offload '
	    . '-kmod-usb-chipidea2 -kmod-usb-storage -kmod-usb2 -libc -libgcc '
	    . '-logd -mtd -netifd -odhcp6c -odhcpd-ipv6only -opkg -ppp '
	    . '-ppp-mod-pppoe -swconfig -uboot-envtools -uci -uclient-fetch '
	    . '-urandom-seed -urngd -wpad-basic test1 zzz test2 aaa',
	    "$label diff_packages PACKAGES string");
	my $rs = $t->build({ %BASE, packages => ['test1'],
	    rootfs_size_mb => 100,
	    filesystem => 'squashfs' });
	is($rs->{status}, 200, "$label rootfs_size_mb and filesystem build");
	is(A($rs->{json}{build_cmd})->[6], 'ROOTFS_PARTSIZE=100',
	    "$label build_cmd[6] ROOTFS_PARTSIZE=100");
	ok((grep { $_ eq 'ROOTFS_FILESYSTEM=squashfs' }
	    @{ A($rs->{json}{build_cmd}) }),
	    "$label ROOTFS_FILESYSTEM=squashfs");
	my $vc = $t->build({ %BASE, version_code => 'some-bad-version-code' });
	is($vc->{status}, 500, "$label version_code mismatch 500");
	is($vc->{json}{detail}, 'Error: Received incorrect version '
	    . 'r12647-cb44ab4f5d (requested some-bad-version-code)',
	    "$label version_code mismatch detail");
	my $pv = $t->build({ %BASE, packages_versions => { test1 => '0.0' } });
	is($pv->{status}, 500, "$label packages_versions mismatch 500");
	is($pv->{json}{detail}, 'Error: Impossible package selection: test1 '
	    . 'version not as requested: 0.0 vs. 1.0',
	    "$label packages_versions mismatch detail");

	my $hits = day_total($t, 'Cache-Hits');
	my $reqs = day_total($t, 'Requests');
	my $again = $t->post('/api/v1/build',
	    { %BASE, packages => ['test2', 'test1'] });
	is($again->{status}, 200,
	    "$label an identical POST is answered at once");
	is($again->{content}, $t->get("/api/v1/build/$hash")->{content},
	    "$label and GET on the hash gives the same body");
	is(day_total($t, 'Cache-Hits'), ($hits // -1) + 1,
	    "$label the cache hit is counted in builds-per-day");
	is(day_total($t, 'Requests'), ($reqs // -1) + 1,
	    "$label and so is the request");

	my $nf = $t->get('/api/v1/build/' . ('0' x 64));
	is($nf->{status}, 404, "$label unknown hash 404");
	is_deeply($nf->{json}, { status => 404, title => 'Not Found',
	    detail => 'could not find provided request hash' },
	    "$label 404 body");
	cors_ok($nf, "$label 404");
	my $np = $t->post("/api/v1/build/$hash", {});
	is($np->{status}, 405, "$label POST on a hash 405");
	cors_ok($np, "$label 405");

	my $img = $r->{images}[0]{name} // 'none';
	my $hd = $t->head("/store/$hash/$img");
	is($hd->{status}, 200, "$label HEAD /store 200");
	is($hd->{headers}{'content-type'}, 'application/octet-stream',
	    "$label /store is application/octet-stream");
	is($t->get("/store/$hash/missing.bin")->{status}, 404,
	    "$label /store missing 404");

	my $al = $t->build({ version => '23.05.4', target => 'ath79/generic',
	    profile => '8dev,carambola2' });
	is($al->{status}, 200, "$label vendor,name profile builds");
	is($al->{json}{id}, '8dev_carambola2', "$label under the canonical id");
	my $gen = $t->build({ version => '23.05.4', target => 'x86/64',
	    profile => 'some-pc-board' });
	is($gen->{status}, 200, "$label any profile on a generic-only target");
	is($gen->{json}{id}, 'generic', "$label builds as generic");
	is($t->post('/api/v1/build', { %BASE, packages => ['empty-defaults'],
	    defaults => '' })->{status}, 202, "$label empty defaults are fine");
}

# Redirects, CORS, preflights and query strings on every route.
sub check_http {
	my ($t, $label, $hash, $img) = @_;
	ok(wait_idle($t), "$label the queue drains");
	for my $c (['/api/v1/latest', '/json/v1/latest.json'],
	    ['/api/v1/overview', '/json/v1/overview.json'],
	    ['/overview', '/json/v1/overview.json'],
	    ['//api/v1/stats', '/api/v1/stats'],
	    ['//json/v1/latest.json', '/json/v1/latest.json']) {
		my $res = $t->get($c->[0]);
		location_is($res, $c->[1], "$label $c->[0]");
		cors_ok($res, "$label 301 $c->[0]");
		is($t->get($c->[1])->{status}, 200, "$label $c->[1] is there");
	}
	my $dir = '/json/v1/releases/23.05.4';
	my @get = ("/api/v1/build/$hash", '/json/v1/overview.json',
	    '/json/v1/branches.json', '/json/v1/latest.json',
	    "$dir/targets/ath79/generic/tplink_archer-c7-v5.json",
	    "$dir/targets/ath79/generic/index.json",
	    "$dir/packages/mips_24kc-index.json",
	    '/api/v1/revision/23.05.4/ath79/generic', '/api/v1/stats',
	    '/api/v1/stats/summary', '/api/v1/builds-per-day',
	    '/api/v1/builds-by-version', '/api/v1/top-packages',
	    '/api/v1/build-errors', "/store/$hash/$img");
	my @redirect = ('/api/v1/overview', '/api/v1/latest', '/overview');
	for my $path ('/api/v1/build', @get, @redirect) {
		my $m = $path eq '/api/v1/build' ? 'POST' : 'GET';
		my $pre = $t->request('OPTIONS', $path, undef, {
		    Origin => 'http://192.168.1.1',
		    'Access-Control-Request-Method' => $m,
		    'Access-Control-Request-Headers' => 'content-type' });
		ok($pre->{status} >= 200 && $pre->{status} < 300,
		    "$label OPTIONS $path: 2xx") or diag("got $pre->{status}");
		cors_ok($pre, "$label OPTIONS $path");
		like($pre->{headers}{'access-control-allow-methods'} // '',
		    qr/\b$m\b/, "$label OPTIONS $path: allows $m");
		like($pre->{headers}{'access-control-allow-headers'} // '',
		    qr/content-type|\*/i,
		    "$label OPTIONS $path: allows Content-Type");
	}
	for my $path (@get) {
		my $a = $t->get($path);
		my $b = $t->get("$path$MS");
		is($a->{status}, 200, "$label GET $path 200");
		cors_ok($a, "$label GET $path");
		is($b->{status}, $a->{status}, "$label $path$MS: same status");
		if ($a->{json}) {
			is_deeply($b->{json}, $a->{json},
			    "$label $path$MS: same JSON");
		} else {
			ok(defined $b->{content}
			    && $b->{content} eq $a->{content},
			    "$label $path$MS: same body");
		}
	}
	for my $path (@redirect) {
		my $res = $t->get("$path$MS");
		is($res->{status}, 301, "$label $path$MS: 301");
		like($res->{headers}{location} // '', qr{/json/v1/\w+\.json},
		    "$label $path$MS: Location");
	}
	my $p = $t->post("/api/v1/build$MS",
	    { %BASE, packages => ['test1', 'test2'] });
	is($p->{status}, 200, "$label POST /api/v1/build$MS: the cached build");
	is($p->{json}{request_hash}, $hash, "$label same hash");
	my $bad = $t->post('/api/v1/build', { %BASE, distro => 'cors' });
	is($bad->{status}, 400, "$label a 400");
	cors_ok($bad, "$label 400");
	my $ue = $t->post('/api/v1/build', { %BASE, packages => 'x' });
	cors_ok($ue, "$label 422");
	my $nf = $t->get('/no/such/route');
	is($nf->{status}, 404, "$label unknown route 404");
	cors_ok($nf, "$label unknown route");
}

# The stats endpoints' shapes (asu-api.md §1.1, §7.1).
sub check_stats {
	my ($t, $label) = @_;
	ok(wait_idle($t), "$label the queue drains");
	my $s = $t->get('/api/v1/stats');
	is($s->{status}, 200, "$label /api/v1/stats 200");
	is($s->{json}{queue_length}, 0, "$label queue_length 0");
	like($s->{content}, qr/"queue_length"\s*:\s*0\b/, "$label an integer");
	my $sum = H($t->get('/api/v1/stats/summary')->{json});
	is($sum->{queue_length}, 0, "$label summary queue_length");
	ok(defined $sum->{builds_24h} && $sum->{builds_24h} >= 1,
	    "$label summary builds_24h counts the builds");
	my $day0 = strftime('%Y-%m-%dZ', gmtime);
	my $bpd = H($t->get('/api/v1/builds-per-day')->{json});
	my $day1 = strftime('%Y-%m-%dZ', gmtime);
	is(scalar @{ A($bpd->{labels}) }, 30,
	    "$label builds-per-day: 30 labels");
	is(scalar(grep { /^\d{4}-\d\d-\d\dZ$/ } @{ A($bpd->{labels}) }), 30,
	    "$label builds-per-day: labels YYYY-MM-DDZ");
	my $last = A($bpd->{labels})->[-1] // '';
	ok($last eq $day0 || $last eq $day1,
	    "$label builds-per-day: the last label is today (UTC)")
	    or diag("got $last, today is $day0 or $day1 (midnight)");
	is_deeply([ map { [ $_->{label}, $_->{color},
	    scalar @{ A($_->{data}) } ] }
	    @{ A($bpd->{datasets}) } ], [ [ 'Requests', 'green', 30 ],
	    [ 'Cache-Hits', 'orange', 30 ], [ 'Failures', 'red', 30 ] ],
	    "$label builds-per-day: the three datasets");
	my $bbv = H($t->get('/api/v1/builds-by-version')->{json});
	is(scalar @{ A($bbv->{labels}) }, 26,
	    "$label builds-by-version: 26 weeks");
	ok((grep { ($_->{label} // '') eq '1.2.3' }
	    @{ A($bbv->{datasets}) }), "$label builds-by-version: 1.2.3 built");
	my $bb = H($t->get('/api/v1/builds-by-version?branch=23.05')->{json});
	ok((grep { ($_->{label} // '') eq '23.05.4' } @{ A($bb->{datasets}) }),
	    "$label builds-by-version?branch=23.05: per version");
	my $tp = H($t->get('/api/v1/top-packages')->{json});
	is(ref $tp->{packages}, 'ARRAY', "$label top-packages: packages");
	ok(exists $tp->{branch} && !defined $tp->{branch},
	    "$label top-packages: branch null");
	is($tp->{days}, 30, "$label top-packages: days 30");
	ok((grep { ($_->{name} // '') eq 'test1' && $_->{count} >= 1 }
	    @{ A($tp->{packages}) }), "$label top-packages counts test1");
	my $tn = H($t->get('/api/v1/top-packages?n=1')->{json});
	ok(@{ A($tn->{packages}) } <= 1, "$label top-packages?n=1");
	my $be = $t->get('/api/v1/build-errors');
	is($be->{status}, 200, "$label build-errors 200");
	like($be->{headers}{'content-type'} // '', qr{^text/plain},
	    "$label build-errors is text/plain");
	like($be->{content} // '', qr/^Build Errors: \d+ entries$/m,
	    "$label build-errors header line");
	like($be->{content} // '', qr/version not as requested: 0\.0 vs\. 1\.0/,
	    "$label build-errors lists our failure");
	unlike($be->{content} // '', qr/[0-9a-f]{64}/,
	    "$label build-errors hides request hashes");
}

# --- pass 1: http:// --------------------------------------------------------

my $h = AsudTest->new(upstream => 'http', only => \@ONLY, timeout => 20,
    branches => { '1.2' => \%BRANCH_1_2, '22.03' => { enabled => 'false' } },
    conf => { metadata_refresh => '300s',
    repository_allow_list => join(' ', @ALLOW) });
$h->start;
my $m = $h->mirror;

$h->part('http: overview', sub {
	check_overview($h, 'http:', allow_list => \@ALLOW,
	    disabled => ['22.03']);
	my $vj = $m->count('/.versions.json');
	ok($vj >= 1, 'http: .versions.json fetched from the mirror');
	$h->get($_) for ('/json/v1/overview.json') x 3,
	    '/json/v1/branches.json', '/json/v1/latest.json';
	is($m->count('/.versions.json'), $vj,
	    'http: not fetched again within metadata_refresh');
	is($m->count('/.versions.json', status => 200), 1,
	    'http: downloaded once');
});
$h->part('http: metadata', sub {
	check_metadata($h, 'http:');
	my $pj = '/releases/23.05.4/targets/ath79/generic/profiles.json';
	my $n = $m->count($pj);
	$h->get('/json/v1/releases/23.05.4/targets/ath79/generic/'
	    . '8dev_carambola2.json') for 1 .. 3;
	is($m->count($pj), $n, 'http: profiles.json is cached too');
});
$h->part('http: new release', sub { check_new_release($h, 'http:', '1.2.5') });
# A release added while a fetch of .versions.json is under way (its answer
# made before the change, sent after it) is still accepted: the second
# validation miss asks upstream again instead of taking that old answer.
$h->part('http: new release during a fetch', sub {
	$m->fault('/.versions.json', 'late', 2);
	my $mark = $m->mark;
	my $body = $JSON->encode({ %BASE, version => '1.2.9',
	    packages => ['early'] });
	my $early = $h->raw_send("POST /api/v1/build HTTP/1.1\r\n"
	    . "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
	    . 'Content-Length: ' . length($body) . "\r\n"
	    . "Connection: close\r\n\r\n$body");
	my $deadline = time + 30;
	sleep 0.05 while time < $deadline
	    && !$m->count('/.versions.json', since => $mark);
	ok($m->count('/.versions.json', since => $mark) >= 1,
	    'http: a validation miss is fetching .versions.json');
	add_release($h, '1.2.3', '1.2.7');
	my $res = $h->post('/api/v1/build', { %BASE, version => '1.2.7',
	    packages => ['late'] });
	is($res->{status}, 202, 'http: 1.2.7, added during that fetch, is '
	    . 'accepted') or diag($res->{content});
	is_400($h->raw_read($early, 30) // {}, 'Unsupported version: 1.2.9',
	    'http: the earlier miss is answered too');
	$m->clear_faults;
});
$h->part('http: 400', sub { check_400($h, 'http:', disabled => 1) });
# The allow-list: scheme, host and path prefix as parsed (asu-api.md §5.5).
$h->part('http: allow-list', sub {
	for my $u ('https://downloads.openwrt.org/releases/23.05.4/packages/x',
	    'https://feed.example.org/owrt/feed') {
		my $res = $h->post('/api/v1/build', { %BASE, packages => ['r'],
		    repositories => { custom => $u } });
		is($res->{status}, 202, "http: allowed repository $u") or
		    diag($res->{content});
	}
	for my $u ('https://downloads.openwrt.org/snapshots/x',
	    'http://downloads.openwrt.org/releases/x',
	    'https://downloads.openwrt.org.evil.example/releases/x',
	    'https://downloads.openwrt.org@evil.example/releases/x',
	    'https://evil.example/releases/?https://downloads.openwrt.org/'
	    . 'releases/x',
	    'https://downloads.openwrt.org/releasesx/y',
	    'https://feed.example.org/owrt') {
		is_400($h->post('/api/v1/build', { %BASE,
		    repositories => { a => $u } }),
		    "Repository not allowed: $u", "http: not allowed: $u");
	}
	is_400($h->post('/api/v1/build', { %BASE, repositories => {
	    a => 'https://feed.example.org/owrt/ok',
	    b => 'https://feed.example.org/other' } }),
	    'Repository not allowed: https://feed.example.org/other',
	    'http: one bad repository among good ones');
});
$h->part('http: 422', sub { check_422($h, 'http:') });
my ($hash, $r) = $h->part('http: builds', sub { check_builds($h, 'http:') });
$hash //= '0' x 64;
$r = H($r);
$h->part('http: build cases', sub {
	check_build_cases($h, 'http:', $hash, $r);
});
# No User-Agent and no client: a 202, not the reference's 500.
$h->part('http: no User-Agent', sub {
	my $body = $JSON->encode({ %BASE, packages => ['no-agent'] });
	my $raw = $h->raw("POST /api/v1/build HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    . "Content-Type: application/json\r\nContent-Length: "
	    . length($body) . "\r\nConnection: close\r\n\r\n$body");
	is($raw && $raw->{status}, 202,
	    'http: no User-Agent and no client: 202');
});
$h->part('http: HTTP', sub {
	check_http($h, 'http:', $hash, A($r->{images})->[0]{name} // 'none');
});
$h->part('http: stats', sub { check_stats($h, 'http:') });
# A disabled branch is listed without breaking anything.
$h->part('http: disabled branch', sub {
	my $ov = $h->get('/json/v1/overview.json');
	is($ov->{status}, 200, 'http: overview with a disabled branch: 200');
	my $b = H(H(H($ov->{json})->{branches})->{'22.03'});
	is_deeply($b->{versions}, [],
	    'http: the disabled branch has no versions');
	is($h->get('/json/v1/branches.json')->{status}, 200,
	    'http: branches.json with a disabled branch: 200');
});
$h->stop;
is($h->{exit}, 0, 'http: asud stops cleanly');
$h->check_log_clean;

# --- pass 2: file:// --------------------------------------------------------

my $f = AsudTest->new(upstream => 'file', only => \@ONLY, timeout => 20,
    branches => { '1.2' => \%BRANCH_1_2 },
    conf => { allow_defaults => 'true', max_defaults_length => 100,
    max_custom_rootfs_size_mb => 512 });
$f->start;
like($f->upstream_url, qr{^file:///}, 'file: upstream_url is a file:// URL');
$f->part('file: overview', sub {
	check_overview($f, 'file:', allow_list => [], allow_defaults => 1,
	    max_defaults => 100, max_rootfs => 512);
});
$f->part('file: metadata', sub { check_metadata($f, 'file:') });
$f->part('file: new release', sub { check_new_release($f, 'file:', '1.2.6') });
$f->part('file: 400', sub { check_400($f, 'file:', allow_defaults => 1) });
$f->part('file: 422', sub {
	check_422($f, 'file:', max_defaults => 100, max_rootfs => 512);
});
$f->part('file: builds', sub {
	my $def = $f->post('/api/v1/build', { %BASE, defaults => 'echo' });
	is($def->{status}, 202, 'file: defaults with permission: 202');
	is(H($def->{json})->{request_hash},
	    'ba50558496f8fead41e8d5bc72afd1ad7d27bc053afb550a8bf6ee3bbcc64952',
	    'file: request hash vector (defaults)');
	my ($fhash, $fr) = check_builds($f, 'file:');
	my $img = A($fr->{images})->[0] // {};
	my $dl = $f->get("/store/$fhash/" . ($img->{name} // 'none'));
	is(sha256_hex($dl->{content} // ''), $img->{sha256},
	    'file: the download matches its sha256');
	ok(wait_idle($f), 'file: the queue drains');
});
$f->stop;
is($f->{exit}, 0, 'file: asud stops cleanly');
$f->check_log_clean;

done_testing();
