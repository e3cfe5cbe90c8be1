# The upgrade check (POST /api/v1/upgrade-check), end to end against the
# stand-in mirror served over http://. The mirror gets a second branch
# first: 24.10.0, a copy of 23.05.4 at a later revision with newer luci
# and test1 packages. Routers then ask from 23.05.3 (a release no longer
# offered), 23.05.4, 24.10.0 and SNAPSHOT: the 200 and the 204, the
# package-change table's renames and removals between the versions, the
# answer's build request accepted by /api/v1/build, a 503 while the feeds
# cannot be read, and the 400, 413 and 422 answers of bad and hostile
# bodies, which match the build endpoint's for the same fault. Expected
# values come from the mirror's files.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use AsudTest;

my $JSON = JSON::PP->new->canonical->allow_nonref;
my @ONLY = ('23.05.4/ath79/generic', 'SNAPSHOT/ath79/generic');
my $PROFILE = 'tplink_archer-c7-v5';
my $CHECK = '/api/v1/upgrade-check';
my $NEW = '24.10.0';
my $NEW_CODE = 'r28427-6df0e3d02a';

sub A { ref $_[0] eq 'ARRAY' ? $_[0] : [] }
sub H { ref $_[0] eq 'HASH' ? $_[0] : {} }

my $t = AsudTest->new(upstream => 'http', only => \@ONLY, timeout => 30);

# Adds $NEW to the mirror as a copy of 23.05.4 with newer packages.
sub add_branch_release {
	my $m = $t->mirror_dir;
	system('cp', '-a', "$m/releases/23.05.4", "$m/releases/$NEW") == 0
	    or die "cp failed";
	my $pj = "releases/$NEW/targets/ath79/generic/profiles.json";
	my $j = $t->mirror_json($pj);
	$j->{version_number} = $NEW;
	$j->{version_code} = $NEW_CODE;
	$t->write_mirror_json($pj, $j);
	my %bump = (luci => [ 'luci', '2.0-1' ],
	    packages => [ 'test1', '1.1' ]);
	for my $feed (sort keys %bump) {
		my $rel = "releases/$NEW/packages/mips_24kc/$feed/index.json";
		my $idx = $t->mirror_json($rel);
		$idx->{packages}{ $bump{$feed}[0] } = $bump{$feed}[1];
		$t->write_mirror_json($rel, $idx);
	}
	my $vj = $t->mirror_json('.versions.json');
	push @{ $vj->{versions_list} }, $NEW;
	$vj->{stable_version} = $NEW;
	$vj->{oldstable_version} = '23.05.4';
	$t->write_mirror_json('.versions.json', $vj);
}

add_branch_release();
$t->start;

my $OLD_CODE = $t->mirror_json(
    'releases/23.05.4/targets/ath79/generic/profiles.json')->{version_code};
my $SNAP_CODE = $t->mirror_json(
    'snapshots/targets/ath79/generic/profiles.json')->{version_code};
my $SNAP_REV = ($SNAP_CODE =~ /^r(\d+)-/)[0];

# A check's body: the router's version and packages, overrides after.
sub body {
	my ($version, $installed, %o) = @_;
	return +{ version => $version, target => 'ath79/generic',
	    profile => 'tplink,archer-c7-v5', installed => $installed, %o };
}

# The package-change table's entries that lie in (after, upto].
sub changes_between {
	my ($after, $upto, $branch_off) = @_;
	my $ov = H($t->get('/json/v1/overview.json')->{json});
	my $all = A(H(H($ov->{branches})->{SNAPSHOT})->{package_changes});
	return [ grep { $_->{revision} > $after && $_->{revision} <= $upto
	    && (!defined $branch_off || $_->{revision} <= $branch_off) }
	    @$all ];
}

# Posts a check's request to the build endpoint: it is accepted.
sub request_accepted {
	my ($req, $name) = @_;
	my $res = $t->post('/api/v1/build', $req);
	is($res->{status}, 202, "$name: the request is accepted by "
	    . '/api/v1/build') or diag($res->{content});
	return $res;
}

# The 400 the build endpoint gives, and the check the same.
sub is_400 {
	my ($res, $detail, $name) = @_;
	is($res->{status}, 400, "$name: 400") or diag($res->{content});
	is_deeply($res->{json}, { status => 400, detail => $detail },
	    "$name: the build's message");
}

# A 422 whose first error has type and loc; optionally the same as the
# build endpoint's first error for its own body.
sub is_422 {
	my ($res, $type, $loc, $name, $build) = @_;
	is($res->{status}, 422, "$name: 422") or diag($res->{content});
	my $j = H($res->{json});
	is($j->{status}, 422, "$name: status in the body");
	ok(defined $j->{detail} && !ref $j->{detail} && length $j->{detail},
	    "$name: a readable detail");
	my $e = H(A($j->{errors})->[0]);
	is($e->{type}, $type, "$name: type");
	is_deeply($e->{loc}, $loc, "$name: loc") if defined $loc;
	return unless $build;
	my $b = $t->post('/api/v1/build', $build);
	is($b->{status}, 422, "$name: the build endpoint says 422 too");
	my $be = H(A(H($b->{json})->{errors})->[0]);
	is_deeply([ @$e{qw(type msg)} ], [ @$be{qw(type msg)} ],
	    "$name: with the same type and message");
}

$t->part('feeds that cannot be read: 503, then 200', sub {
	$t->mirror->fault("/releases/$NEW/packages/", '500');
	my $res = $t->post($CHECK, body('23.05.4', { luci => '1.0-1' }));
	is($res->{status}, 503, 'the feeds answer 500: 503')
	    or diag($res->{content});
	is(H($res->{json})->{status}, 503, '503: status in the body');
	like(H($res->{json})->{detail} // '', qr/package feeds of $NEW/,
	    '503: names what could not be read');
	ok($res->{headers}{'retry-after'}, '503: Retry-After');
	$t->mirror->clear_faults;
	$res = $t->post($CHECK, body('23.05.4', { luci => '1.0-1' }));
	is($res->{status}, 200, 'once they answer: 200')
	    or diag($res->{content});
});

$t->part('a release no longer offered, of a known branch', sub {
	my $res = $t->post($CHECK, body('23.05.3', { luci => '0.9-1',
	    test1 => '1.0', auc => '1.0-1' }, version_code => 'r23809-x'));
	is($res->{status}, 200, '23.05.3: 200') or diag($res->{content});
	my $j = H($res->{json});
	is($j->{status}, 200, 'status in the body');
	is_deeply($j->{release}, { version => '23.05.4',
	    version_code => $OLD_CODE }, 'release: the newest of its branch');
	is_deeply($j->{branch_release}, { version => $NEW,
	    version_code => $NEW_CODE }, 'branch_release: the newer branch');
	is_deeply($j->{packages}, { luci => { installed => '0.9-1',
	    available => '1.0-1' } },
	    'packages: only the newer ones, from 23.05.4\'s feeds');
	is_deeply($j->{package_changes}, [], 'no changes within a branch');
	is_deeply($j->{request}, { distro => 'openwrt', version => '23.05.4',
	    version_code => $OLD_CODE, target => 'ath79/generic',
	    profile => $PROFILE, packages => [ qw(auc luci test1) ] },
	    'request: the release of its own branch first');
	my $b = request_accepted($j->{request}, '23.05.3');
	my $done = $t->wait_build(H($b->{json})->{request_hash} // '',
	    timeout => 60);
	is($done->{status}, 200, 'and builds') or diag($done->{content});
});

$t->part('a newer branch: renames and removals', sub {
	my $res = $t->post($CHECK, body('23.05.4', { auc => '1.0-1',
	    'luci-app-diag-core' => '1.0-1', luci => '1.0-1',
	    test1 => '1.0', aaa => '1.0-1' }, version_code => $OLD_CODE));
	is($res->{status}, 200, '23.05.4: 200') or diag($res->{content});
	my $j = H($res->{json});
	ok(exists $j->{release} && !defined $j->{release},
	    'release: null, 23.05.4 is the newest of its branch');
	is_deeply($j->{branch_release}, { version => $NEW,
	    version_code => $NEW_CODE }, 'branch_release');
	is_deeply($j->{packages}, {
	    luci => { installed => '1.0-1', available => '2.0-1' },
	    test1 => { installed => '1.0', available => '1.1' } },
	    "packages: from $NEW\'s feeds");
	my $want = changes_between(23069, 28427, 27990);
	ok(@$want >= 2, 'the table has changes between the branches');
	is_deeply($j->{package_changes}, $want,
	    'package_changes: those between 23.05 and 24.10, as overview '
	    . 'lists them');
	is_deeply($j->{request}, { distro => 'openwrt', version => $NEW,
	    version_code => $NEW_CODE, target => 'ath79/generic',
	    profile => $PROFILE, packages => [ qw(aaa luci owut test1) ] },
	    'request: auc renamed owut, luci-app-diag-core removed');
	request_accepted($j->{request}, '23.05.4');

	$res = $t->post($CHECK, body('23.05.4', { luci => '1.0-1' },
	    upgrade_packages => JSON::PP::false));
	is($res->{status}, 200, 'upgrade_packages false: 200');
	$j = H($res->{json});
	is_deeply($j->{packages}, {}, 'upgrade_packages false: no packages');
	is(H($j->{branch_release})->{version}, $NEW,
	    'upgrade_packages false: branch_release still');
	is_deeply(H($j->{request})->{packages}, [ 'luci' ],
	    'upgrade_packages false: the request keeps the packages');
});

$t->part('nothing newer: 204', sub {
	my $res = $t->post($CHECK, body($NEW, { luci => '2.0-1',
	    test1 => '1.1' }, version_code => $NEW_CODE));
	is($res->{status}, 204, "$NEW with current packages: 204")
	    or diag($res->{content});
	is($res->{content} // '', '', '204: no body');
	is($res->{headers}{'access-control-allow-origin'}, '*', '204: CORS');
	$res = $t->post($CHECK, body($NEW, { luci => '1.0-1' }));
	is($res->{status}, 200, "$NEW with an older package: 200");
	my $j = H($res->{json});
	ok(!defined $j->{release} && !defined $j->{branch_release},
	    'only packages are newer');
	is(H($j->{request})->{version}, $NEW, 'the request stays on '
	    . 'the router\'s version');
	$res = $t->post($CHECK, body($NEW, { luci => '1.0-1' },
	    upgrade_packages => JSON::PP::false));
	is($res->{status}, 204, 'and 204 without upgrade_packages');
});

$t->part('snapshots: a newer version_code of the same version', sub {
	my $old = 'r' . ($SNAP_REV - 200) . '-0123abcd';
	my $res = $t->post($CHECK, body('SNAPSHOT', {
	    'luci-app-opkg' => '1.0-r0', luci => '1.0-r0' },
	    version_code => $old));
	is($res->{status}, 200, 'an older snapshot: 200')
	    or diag($res->{content});
	my $j = H($res->{json});
	is_deeply($j->{release}, { version => 'SNAPSHOT',
	    version_code => $SNAP_CODE }, 'release: the same version, newer');
	ok(!defined $j->{branch_release}, 'no newer branch than SNAPSHOT');
	is_deeply($j->{packages}, { luci => { installed => '1.0-r0',
	    available => '1.0-r1' } }, 'packages from the snapshot feeds');
	is_deeply($j->{package_changes},
	    changes_between($SNAP_REV - 200, $SNAP_REV),
	    'package_changes between the two revisions');
	ok(@{ A($j->{package_changes}) } > 0, 'at least one');
	is_deeply(H($j->{request})->{packages},
	    [ 'luci', 'luci-app-package-manager' ], 'renamed in the request');
	is(H($j->{request})->{version_code}, $SNAP_CODE,
	    'the request pins the revision');
	request_accepted($j->{request}, 'SNAPSHOT');
	$res = $t->post($CHECK, body('SNAPSHOT', { luci => '1.0-r1' },
	    version_code => $SNAP_CODE));
	is($res->{status}, 204, 'the current snapshot: 204')
	    or diag($res->{content});
	$res = $t->post($CHECK, body('SNAPSHOT', { luci => '1.0-r1' }));
	is($res->{status}, 200, 'a snapshot without version_code: 200');
	is_deeply(H($res->{json})->{release}, { version => 'SNAPSHOT',
	    version_code => $SNAP_CODE }, 'offered the current revision');
});

$t->part('name order, whatever the body\'s', sub {
	my $res = $t->post($CHECK, '{"version": "23.05.3", "target": '
	    . '"ath79/generic", "profile": "tplink_archer-c7-v5", "installed": '
	    . '{"zzz": "0.1-1", "test1": "0.9", "aaa": "0.1-1", '
	    . '"luci": "0.9-1"}}');
	is($res->{status}, 200, 'unsorted names: 200') or diag($res->{content});
	my $j = H($res->{json});
	is_deeply(H($j->{request})->{packages}, [ qw(aaa luci test1 zzz) ],
	    'request.packages in name order');
	is_deeply([ sort keys %{ H($j->{packages}) } ],
	    [ qw(aaa luci test1 zzz) ], 'packages: all four are newer');
	like($res->{content},
	    qr/"packages":\{"aaa":.*"luci":.*"test1":.*"zzz":/,
	    'packages in name order');
});

$t->part('400: the build endpoint\'s messages', sub {
	is_400($t->post($CHECK, body('19.07.10', {})),
	    'Unsupported branch: 19.07.10', 'an unknown branch');
	is_400($t->post($CHECK, body('23.05.4', {}, distro => 'lede')),
	    'Unsupported distro: lede', 'an unknown distro');
	my %b = (version => '23.05.4', target => 'nosuch/target',
	    profile => $PROFILE);
	my $build = $t->post('/api/v1/build', \%b);
	is($build->{status}, 400, 'the build: unknown target 400');
	is_400($t->post($CHECK, body('23.05.4', {}, target => 'nosuch/target')),
	    H($build->{json})->{detail}, 'an unknown target');
	%b = (version => '23.05.4', target => 'ath79/generic',
	    profile => 'nosuch_profile');
	$build = $t->post('/api/v1/build', \%b);
	is($build->{status}, 400, 'the build: unknown profile 400');
	is_400($t->post($CHECK, body('23.05.4', {},
	    profile => 'nosuch_profile')),
	    H($build->{json})->{detail}, 'an unknown profile');
	is_400($t->post($CHECK, body('24.10.9', {})),
	    'Unsupported version: 24.10.9', 'a version newer than any known');
	for my $bad ('-luci', '') {
		my $res = $t->post($CHECK, body('23.05.4', { $bad => '1' }));
		is($res->{status}, 400, "installed name '$bad': 400");
		like(H($res->{json})->{detail} // '', qr/Invalid package name/,
		    "installed name '$bad': says why");
	}
});

$t->part('422 and hostile bodies', sub {
	my %req = (version => '23.05.4', target => 'ath79/generic',
	    profile => $PROFILE);
	is_422($t->post($CHECK, { target => 'ath79/generic',
	    profile => $PROFILE, installed => {} }), 'missing',
	    [ 'body', 'version' ], 'no version', { target => 'ath79/generic',
	    profile => $PROFILE });
	is_422($t->post($CHECK, body(23.05, {})), 'string_type',
	    [ 'body', 'version' ], 'a number as version',
	    { %req, version => 23.05 });
	is_422($t->post($CHECK, body('23.05.4', {}, target => 'ath79')),
	    'string_pattern_mismatch', [ 'body', 'target' ], 'a bad target',
	    { %req, target => 'ath79' });
	is_422($t->post($CHECK, body('23.05.4', [ 'luci' ])), 'dict_type',
	    [ 'body', 'installed' ], 'installed as a list',
	    { %req, packages_versions => [ 'luci' ] });
	is_422($t->post($CHECK, body('23.05.4', { luci => 1 })),
	    'string_type', [ 'body', 'installed', 'luci' ],
	    'a number as a version', { %req, packages_versions =>
	    { luci => 1 } });
	is_422($t->post($CHECK, body('23.05.4', { luci => [ '1' ] })),
	    'string_type', [ 'body', 'installed', 'luci' ],
	    'a list as a version');
	is_422($t->post($CHECK, body('23.05.4', { 'lu ci;rm' => '1' })),
	    'string_pattern_mismatch',
	    [ 'body', 'installed', 'lu ci;rm', '[key]' ],
	    'a bad package name', { %req, packages_versions =>
	    { 'lu ci;rm' => '1' } });
	is_422($t->post($CHECK, body('23.05.4', { luci => '1 $(x)' })),
	    'string_pattern_mismatch', [ 'body', 'installed', 'luci' ],
	    'a bad version');
	is_422($t->post($CHECK, body('23.05.4', {}, upgrade_packages => 'yes')),
	    'bool_type', [ 'body', 'upgrade_packages' ],
	    'upgrade_packages not a boolean');
	my $res = $t->post($CHECK, { target => 'ath79/generic' });
	is($res->{status}, 422, 'several faults: 422');
	is(scalar @{ A(H($res->{json})->{errors}) }, 3,
	    'version, profile and installed are reported');
	is_422($t->post($CHECK, '{"version": '), 'json_invalid', undef,
	    'not JSON');
	is_422($t->post($CHECK, '[1, 2]'), 'model_attributes_type', [ 'body' ],
	    'a list as the body');
	is_422($t->post($CHECK, '"x"'), 'model_attributes_type', [ 'body' ],
	    'a string as the body');
	is_422($t->post($CHECK, ''), 'missing', [ 'body' ], 'no body');
	$res = $t->post($CHECK, '[' x 100 . ']' x 100);
	is($res->{status}, 422, 'deep nesting: 422');

	my %many = map { sprintf('pkg%05d', $_) => '1.0-1' } 1 .. 20000;
	$res = $t->post($CHECK, body('23.05.4', \%many));
	is($res->{status}, 200, '20000 installed packages: 200');
	my $j = H($res->{json});
	is(scalar @{ A(H($j->{request})->{packages}) }, 20000,
	    '20000 names in the request');
	is_deeply($j->{packages}, {}, 'none of them in the feeds');
	%many = map { sprintf('package%07d', $_) => '1.0-1' } 1 .. 60000;
	my $big = $JSON->encode(body('23.05.4', \%many));
	ok(length $big > 1048576, 'a body over max_request_body');
	$res = $t->post($CHECK, $big);
	is($res->{status}, 413, 'too big: 413');
	is($t->post('/api/v1/build', $big)->{status}, 413,
	    'as the build endpoint answers');
	is($t->get('/api/v1/stats')->{status}, 200, 'still serving');
});

$t->part('the route', sub {
	my $res = $t->get($CHECK);
	is($res->{status}, 405, 'GET: 405');
	is($res->{headers}{allow}, 'POST, OPTIONS', 'Allow: POST');
	$res = $t->request('OPTIONS', $CHECK, undef, {
	    Origin => 'http://192.168.1.1',
	    'Access-Control-Request-Method' => 'POST' });
	is($res->{status}, 204, 'a preflight passes');
	like($t->get('/metrics')->{content},
	    qr!asud_http_requests_total\{route="/api/v1/upgrade-check",!,
	    '/metrics counts the route');
});

$t->stop;
$t->check_log_clean;
done_testing();
