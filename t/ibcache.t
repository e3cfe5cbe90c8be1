# ImageBuilders on demand: a build for a target with no ImageBuilder on
# disk downloads it from the mirror (signed sha256sums, checksum, unpack
# in a child), once however many requests wait, and refuses a tampered
# tarball, a bad or missing signature, a checksum list without the
# tarball, a truncated transfer and upstream errors, leaving nothing in
# the cache.
use strict;
use warnings;
use Test::More;
use Digest::SHA;
use File::Path qw(remove_tree);
use Time::HiRes qw(sleep time);
use AsudTest;

BAIL_OUT('the usign-sign test tool (ASUD_USIGN_SIGN) is needed')
    unless $ENV{ASUD_USIGN_SIGN} && -x $ENV{ASUD_USIGN_SIGN};

my $t = AsudTest->new(upstream => 'http', only => ['23.05.4/ath79/generic',
    '23.05.4/x86/64'], conf => { build_jobs => 2 });
my $m = $t->mirror;
my $tdir = $t->mirror_dir . '/releases/23.05.4/targets';
remove_tree($t->ib_dir . '/23.05.4');
$t->start;

my $n = 0;
# A new request each time (a new hash), for target and profile.
sub req {
	my ($target, $profile) = @_;
	return { version => '23.05.4', target => $target, profile => $profile,
	    packages => [], rootfs_size_mb => ++$n };
}
sub tarball { my ($dir) = @_; (glob("$dir/*imagebuilder*.tar.zst"))[0] }
sub resign { my ($dir) = @_;
	system($ENV{ASUD_USIGN_SIGN}, '-s', $t->key_secret, "$dir/sha256sums") == 0
	    or die 'signing failed';
}
sub cache_clean {
	my ($name) = @_;
	ok(!-e $t->ib_dir . '/23.05.4/ath79/generic', "$name: nothing installed");
	my @left = grep { !/\/\.\.?$/ } glob($t->ib_dir . '/.tmp/* '
	    . $t->ib_dir . '/.tmp/.*');
	is(scalar @left, 0, "$name: no temporary files left") or diag("@left");
}
sub fails_with {
	my ($re, $name) = @_;
	my $r = $t->build(req('ath79/generic', 'tplink_archer-c7-v5'),
	    timeout => 60);
	is($r->{status}, 500, "$name: the build fails");
	like($r->{json}{detail} // '', $re, "$name: and says why");
	like($r->{json}{detail} // '', qr/23\.05\.4 ath79\/generic/,
	    "$name: naming the version and target");
	cache_clean($name);
}

my $gdir = "$tdir/ath79/generic";
my $tb = tarball($gdir);
ok($tb && -f "$gdir/sha256sums.sig", 'the mirror is signed');
(my $tbpath = $tb) =~ s{^\Q${\ $t->mirror_dir}\E}{};

# Refused cases first, while nothing is cached.
my $orig = do { local $/; open(my $fh, '<', $tb) or die; <$fh> };
sub put { my ($f, $c) = @_; open(my $fh, '>', $f) or die; print $fh $c; close $fh }

put($tb, substr($orig, 0, 1000) . 'X' . substr($orig, 1001));
fails_with(qr/checksum mismatch/, 'tampered tarball');
put($tb, $orig);

my $sums = do { local $/; open(my $fh, '<', "$gdir/sha256sums") or die; <$fh> };
put("$gdir/sha256sums", $sums . "0" x 64 . " *extra\n");
fails_with(qr/bad signature/, 'sha256sums changed after signing');
put("$gdir/sha256sums", $sums);

rename("$gdir/sha256sums.sig", "$gdir/sig.away") or die;
fails_with(qr/sha256sums\.sig: upstream answered 404/, 'missing signature');
rename("$gdir/sig.away", "$gdir/sha256sums.sig") or die;

(my $nosums = $sums) =~ s/^.*imagebuilder.*\n//mg;
put("$gdir/sha256sums", $nosums);
resign($gdir);
fails_with(qr/lists no ImageBuilder/, 'a checksum list without the tarball');
put("$gdir/sha256sums", $sums);
resign($gdir);

# Hostile tarballs (signed and listed, so only the unpack can refuse them).
(my $top = $tb) =~ s{.*/}{};
$top =~ s/\.tar\.zst$//;
my $hw = $t->dir . '/hostile';
mkdir($hw);
system('tar', '-C', $hw, '-xf', $tb) == 0 or die 'untar';
sub repack {
	my (@tar) = @_;
	unlink($tb);
	system('tar', '--zstd', '-C', $hw, '-cf', $tb, @tar) == 0
	    or die 'tar';
	my $sha = Digest::SHA->new(256)->addfile($tb)->hexdigest;
	(my $new = $sums) =~ s/^[0-9a-f]{64}( \*?\Q$top\E\.tar\.zst)$/$sha$1/m;
	put("$gdir/sha256sums", $new);
	resign($gdir);
}
repack("--transform=s,^$top,../$top,", $top);
fails_with(qr/unpack: .*(\.\.|refused)/, 'a tarball with ../ entries');
symlink('../../../../../../etc', "$hw/$top/evil") or die "symlink: $!";
repack($top);
fails_with(qr/unpack: .*symlink/, 'a tarball with an outward symlink');
unlink("$hw/$top/evil");
put($tb, $orig);
put("$gdir/sha256sums", $sums);
resign($gdir);

$m->fault($tbpath, 'truncate');
fails_with(qr/truncated|checksum mismatch/, 'a truncated transfer');
$m->fault($tbpath, '404');
fails_with(qr/upstream answered 404/, 'an upstream 404');
$m->fault($tbpath, '500');
fails_with(qr/upstream answered 500/, 'an upstream 500');
$m->clear_faults;

# Twenty concurrent requests for one missing ImageBuilder: one download.
my $mark = $m->mark;
my @hashes;
for my $i (1 .. 20) {
	my $r = $t->post('/api/v1/build', req('ath79/generic',
	    'tplink_archer-c7-v5'));
	is($r->{status}, 202, "concurrent request $i accepted");
	push @hashes, $r->{json}{request_hash};
}
my $seen_phase = 0;
for my $h (@hashes) {
	my $deadline = time + 120;
	my $r;
	while (time < $deadline) {
		$r = $t->get("/api/v1/build/$h");
		$seen_phase ||= ($r->{json}{imagebuilder_status} // '') =~
		    /^(download|unpack)_imagebuilder$/;
		last if $r->{status} != 202;
		sleep 0.05;
	}
	is($r->{status}, 200, 'a concurrent build finished')
	    or diag($r->{json}{detail});
}
my @gets = grep { $_->{path} eq $tbpath } $m->requests(since => $mark);
is(scalar @gets, 1, 'the tarball was downloaded once for twenty requests');
ok(-f $t->ib_dir . '/23.05.4/ath79/generic/.targetinfo',
    'the ImageBuilder is in the cache');

# A second build reuses the cache.
$mark = $m->mark;
my $again = $t->build(req('ath79/generic', '8dev,carambola2'));
is($again->{status}, 200, 'a later build for the target');
is(scalar(grep { $_->{path} eq $tbpath } $m->requests(since => $mark)), 0,
    'reuses the cached ImageBuilder');

# Another target downloads its own, and the answers said so meanwhile.
$m->fault('/releases/23.05.4/targets/x86/64/', 'slow', 1);
my $p = $t->post('/api/v1/build', req('x86/64', 'generic'));
my $st = $t->get("/api/v1/build/$p->{json}{request_hash}");
is($st->{json}{detail}, 'started', 'while it downloads the build is started');
is($st->{json}{imagebuilder_status}, 'download_imagebuilder',
    'with imagebuilder_status download_imagebuilder');
is($st->{headers}{'x-imagebuilder-status'}, 'download_imagebuilder',
    'and the header says so');
$m->clear_faults;
is($t->wait_build($p->{json}{request_hash}, timeout => 120)->{status}, 200,
    'x86/64 built after its download');

ok(-f $t->ib_dir . '/23.05.4/ath79/generic/.asud-size',
    'a downloaded ImageBuilder notes its size');
my $noted = 0;
# Build slots (build_jobs = 2) count with their ImageBuilder.
for my $f (glob($t->ib_dir . '/*/*/*/.asud-size ' . $t->ib_dir
    . '/*/*/*/.asud-slots/*/.asud-size')) {
	open(my $fh, '<', $f) or die "$f: $!";
	$noted += (<$fh> // 0) + 0;
}
my ($scraped) = $t->get('/metrics')->{content} =~
    /^asud_imagebuilder_cache_bytes (\d+)$/m;
cmp_ok($noted, '>', 0, 'the two ImageBuilders noted their sizes');
is($scraped, $noted, '/metrics sums the sizes the ImageBuilders and slots noted');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;

# The disk budget: with room for one ImageBuilder, installing another
# evicts the least recently used one that no build needs, never the one a
# waiting build is about to use.
my $e = AsudTest->new(upstream => 'http', only => ['23.05.4/ath79/generic',
    '23.05.4/x86/64'], conf => { imagebuilder_cache_max => 1 });
remove_tree($e->ib_dir . '/23.05.4');
$e->start;
my $ath = $e->ib_dir . '/23.05.4/ath79/generic';
my $x86 = $e->ib_dir . '/23.05.4/x86/64';
is($e->build(req('ath79/generic', 'tplink_archer-c7-v5'))->{status}, 200,
    'budget: ath79 built');
ok(-d $ath, 'budget: ath79 cached');
is($e->build(req('x86/64', 'generic'))->{status}, 200,
    'budget: x86/64 built (its ImageBuilder was kept for it)');
ok(-d $x86, 'budget: x86/64 cached');
ok(!-e $ath, 'budget: ath79, least recently used and idle, was evicted');
like($e->log_text, qr/evicted the ImageBuilder \S+ath79\/generic/,
    'budget: the eviction is logged');
my $em = $e->mirror->mark;
is($e->build(req('ath79/generic', 'tplink_archer-c7-v5'))->{status}, 200,
    'budget: ath79 again');
is(scalar(grep { $_->{path} =~ /ath79.*imagebuilder.*tar/ }
    $e->mirror->requests(since => $em)), 1, 'budget: downloaded again');
ok(!-e $x86 && -d $ath, 'budget: now x86/64 made room');
is($e->stop, 0, 'budget: clean stop');
$e->check_log_clean;

# The same mirror over file://: the first build downloads, the next reuses.
my $f = AsudTest->new(upstream => 'file', only => ['23.05.4/x86/64']);
remove_tree($f->ib_dir . '/23.05.4');
$f->start;
is($f->build(req('x86/64', 'generic'))->{status}, 200,
    'file://: a build downloads its ImageBuilder');
ok(-f $f->ib_dir . '/23.05.4/x86/64/.targetinfo', 'file://: installed');
is($f->build(req('x86/64', 'generic'))->{status}, 200,
    'file://: the next build reuses it');
is(() = $f->log_text =~ /downloading /g, 1, 'file://: downloaded once');
is($f->stop, 0, 'file://: clean stop');
$f->check_log_clean;

# Upstream moves: a new revision of 23.05.4 ath79/generic appears (a new
# tarball, a new version_code in profiles.json). An unpinned request is
# built again with the new ImageBuilder; a pinned one keeps its image; a
# new request pinned to the old revision fails as the reference says.
my $v = AsudTest->new(upstream => 'http', only => ['23.05.4/ath79/generic'],
    conf => { metadata_refresh => '1s' });
remove_tree($v->ib_dir . '/23.05.4');
$v->start;
my %unpinned = (version => '23.05.4', target => 'ath79/generic',
    profile => 'tplink_archer-c7-v5', packages => []);
my $r1 = $v->build({ %unpinned });
is($r1->{status}, 200, 'moves: built');
my $old = $r1->{json}{version_code};
like($old, qr/^r\d+-[0-9a-f]+$/, 'moves: with a revision');
my %pinned = (%unpinned, version_code => $old);
is($v->build({ %pinned })->{status}, 200, 'moves: a pinned build');

my $new = 'r99999-0123456789';
$v->bump_revision('releases/23.05.4/targets/ath79/generic', $old, $new);

# asud learns of it at its next metadata refresh.
my $deadline = time + 20;
my $seen;
while (time < $deadline) {
	$seen = $v->get('/api/v1/revision/23.05.4/ath79/generic')->{json}{revision};
	last if ($seen // '') eq $new;
	sleep 0.3;
}
is($seen, $new, 'moves: upstream offers the new revision');
my $vm = $v->mirror->mark;
my $p1 = $v->post('/api/v1/build', { %unpinned });
is($p1->{status}, 202, 'moves: the unpinned request is built again');
my $r2 = $v->wait_build($p1->{json}{request_hash}, timeout => 120);
is($r2->{status}, 200, 'moves: rebuilt');
is($r2->{json}{version_code}, $new, 'moves: with the new revision');
is($r2->{json}{request_hash}, $r1->{json}{request_hash}, 'moves: same hash');
is(scalar(grep { $_->{path} =~ /imagebuilder.*tar/ }
    $v->mirror->requests(since => $vm)), 1,
    'moves: the new ImageBuilder was downloaded');
my $p2 = $v->post('/api/v1/build', { %pinned });
is($p2->{status}, 200, 'moves: the pinned request keeps its image');
is($p2->{json}{version_code}, $old, 'moves: at the old revision');
my $p3 = $v->build({ %pinned, rootfs_size_mb => 77 });
is($p3->{status}, 500, 'moves: a new request pinned to the old revision fails');
is($p3->{json}{detail}, "Error: Received incorrect version $new "
    . "(requested $old)", 'moves: with the reference\'s message');
is($v->stop, 0, 'moves: clean stop');
$v->check_log_clean;
done_testing();
