# ImageBuilders on demand: a build for a target with no ImageBuilder on
# disk downloads it from the mirror (signed sha256sums, checksum, unpack
# in a child), once however many requests wait, and refuses a tampered
# tarball, a bad or missing signature, a checksum list without the
# tarball, a truncated transfer and upstream errors, leaving nothing in
# the cache.
use strict;
use warnings;
use Test::More;
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
done_testing();
