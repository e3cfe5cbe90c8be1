# Build slots: builds of one ImageBuilder run at once, each in a private
# working copy made once (container_setup meanwhile) and reused, never two
# in one directory (the stand-in's lock would fail the build); a custom
# repository in one slot is not seen by another; with one slot per
# ImageBuilder builds run in the ImageBuilder itself, one at a time.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use Test::More;
use Time::HiRes qw(sleep time);
use AsudTest;

my %BASE = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my $ALLOWED = 'https://repo.example.org/feeds';

# A cp that takes a moment, so that container_setup can be seen.
my $t = AsudTest->new(conf => { build_jobs => 4, allow_defaults => 'true',
    repository_allow_list => $ALLOWED }, env => { STANDIN_TIME_SCALE => 1 });
my $bin = $t->dir . '/slowbin';
make_path($bin);
open(my $fh, '>', "$bin/cp") or die "$bin/cp: $!";
print $fh "#!/bin/sh\nsleep 1\nexec /bin/cp \"\$@\"\n";
close($fh);
chmod(0755, "$bin/cp") or die;
$t->{env}{PATH} = "$bin:$ENV{PATH}";
$t->start;
my $ib = $t->ib_dir . '/1.2.3/testtarget/testsubtarget';

# Posts n distinct requests (by their defaults) and returns their hashes.
sub post_batch {
	my ($tag, $n, %extra) = @_;
	my @h;
	for my $i (1 .. $n) {
		my $r = $t->post('/api/v1/build', { %BASE,
		    defaults => "echo $tag $i\n", %extra });
		is($r->{status}, 202, "$tag $i: accepted");
		push @h, $r->{json}{request_hash};
	}
	return @h;
}

# Polls the queue and the builds until all are done; returns the most
# builds seen running at once and the phases seen.
sub watch {
	my (@h) = @_;
	my ($most, %phases, %done) = (0);
	my $deadline = time + 120;
	while (keys %done < @h && time < $deadline) {
		my $q = $t->get('/api/v1/queue')->{json};
		$most = $q->{running} if $q->{running} > $most;
		$phases{$_->{phase} // ''}++ for @{ $q->{queue} };
		for my $x (grep { !$done{$_} } @h) {
			my $r = $t->get("/api/v1/build/$x");
			$done{$x} = $r if $r->{status} != 202;
		}
		sleep 0.1;
	}
	return ($most, \%phases, map { $done{$_} } @h);
}

# Every image of a finished build downloads with its listed sha256.
sub images_ok {
	my ($r, $what) = @_;
	my $bad = 0;
	for my $img (@{ $r->{json}{images} // [] }) {
		my $dl = $t->get("/store/$r->{json}{bin_dir}/$img->{name}");
		$bad++ unless $dl->{status} == 200 &&
		    Digest::SHA::sha256_hex($dl->{content}) eq $img->{sha256};
	}
	ok(@{ $r->{json}{images} // [] } && !$bad, "$what: images correct");
}
require Digest::SHA;

# 1. Four builds of one target at once, each in its own slot.
my @h = post_batch('first', 4);
my ($most, $phases, @res) = watch(@h);
is($most, 4, 'four builds of one ImageBuilder ran at once');
ok($phases->{container_setup}, 'container_setup while the slots were made');
for my $i (0 .. 3) {
	is($res[$i]{status}, 200, "first $i: built (the stand-in's lock "
	    . 'never fired)') or diag($res[$i]{json}{stderr});
	images_ok($res[$i], "first $i");
}
my @slots = sort grep { m{/\d+$} } glob("$ib/.asud-slots/*");
is(scalar @slots, 4, 'four slots on disk');
my $log = $t->log_text;
my %used = map { $_ => 1 } $log =~ /build \w+ started: .* in (\S+)$/mg;
is(scalar(keys %used), 4, 'each build ran in a directory of its own');
ok(!grep({ !m{/\.asud-slots/\d+$} } keys %used),
    'never in the ImageBuilder itself');
my @mi = stat("$ib/staging_dir/host/bin/README");
my @si = stat("$slots[0]/staging_dir/host/bin/README");
ok(@mi && @si && $mi[1] == $si[1], 'staging_dir is hard-linked');
my @mc = stat("$ib/.config");
my @sc = stat("$slots[0]/.config");
ok(@mc && @sc && $mc[1] != $sc[1], '.config is a copy of its own');
ok(-s "$slots[0]/.asud-size", 'a slot notes its size');
ok(!-e "$ib/tmp/.standin-lock", 'the ImageBuilder itself was not built in');

# 2. The next batch reuses the slots: none is made again.
my $made = () = $log =~ /making the build slot/g;
is($made, 4, 'four slots made');
@h = post_batch('second', 4);
($most, $phases, @res) = watch(@h);
is(scalar(grep { $_->{status} == 200 } @res), 4, 'second batch built');
ok(!$phases->{container_setup}, 'no container_setup the second time');
$made = () = $t->log_text =~ /making the build slot/g;
is($made, 4, 'the slots were reused');

# 3. A custom repository in one slot is not seen by a build beside it.
my ($custom) = post_batch('custom', 1,
    repositories => { custom => "$ALLOWED/x" });
my @plain = post_batch('plain', 3);
(undef, undef, my $rc, @res) = watch($custom, @plain);
like($rc->{json}{stdout} . ($rc->{json}{stderr} // ''),
    qr{\Q$ALLOWED\E/x}, 'custom: the build saw its repository');
for my $i (0 .. 2) {
	unlike(($res[$i]{json}{stdout} // '') . ($res[$i]{json}{stderr} // ''),
	    qr{repo\.example\.org}, "plain $i: did not see it");
}
my $leak = grep { my $c = do { local (@ARGV, $/) = ("$_/repositories.conf");
    <> } // ''; $c =~ /repo\.example\.org/ } @slots;
is($leak, 0, 'every slot has its repositories restored');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;

# 4. One slot per ImageBuilder: builds run in the ImageBuilder, in turn.
my $one = AsudTest->new(conf => { build_jobs => 2,
    slots_per_imagebuilder => 1, allow_defaults => 'true' },
    env => { STANDIN_TIME_SCALE => 1 });
$one->start;
$t = $one;
@h = post_batch('one', 2);
($most, $phases, @res) = watch(@h);
is($most, 1, 'one slot: one build at a time');
is(scalar(grep { $_->{status} == 200 } @res), 2, 'one slot: built');
ok(!-e $one->ib_dir . '/1.2.3/testtarget/testsubtarget/.asud-slots',
    'one slot: no copy made');
is($one->stop, 0, 'one slot: clean stop');
$one->check_log_clean;

# 5. Slots of a downloaded ImageBuilder count in its disk use, and are
# made anew when upstream replaces it.
SKIP: {
skip('the usign-sign test tool (ASUD_USIGN_SIGN) is needed', 1)
    unless $ENV{ASUD_USIGN_SIGN} && -x $ENV{ASUD_USIGN_SIGN};
my $v = AsudTest->new(upstream => 'http', only => ['23.05.4/ath79/generic'],
    conf => { build_jobs => 2, metadata_refresh => '1s',
    allow_defaults => 'true' }, env => { STANDIN_TIME_SCALE => 1 });
remove_tree($v->ib_dir . '/23.05.4');
$v->start;
$t = $v;
%BASE = (version => '23.05.4', target => 'ath79/generic',
    profile => 'tplink_archer-c7-v5', packages => []);
my $gib = $v->ib_dir . '/23.05.4/ath79/generic';
@h = post_batch('old', 2);
(undef, undef, @res) = watch(@h);
is(scalar(grep { $_->{status} == 200 } @res), 2, 'moves: built twice');
my $old = $res[0]{json}{version_code};
my $own = do { local (@ARGV, $/) = ("$gib/.asud-size"); <> } + 0;
my $slotted = 0;
$slotted += do { local (@ARGV, $/) = ($_); <> } + 0
    for glob("$gib/.asud-slots/*/.asud-size");
ok($slotted > 0, 'moves: the slots note their bytes');
my ($bytes) = $v->get('/metrics')->{content} =~
    /^asud_imagebuilder_cache_bytes (\d+)$/m;
is($bytes, $own + $slotted, 'moves: the cache counts the slots');
my ($ino) = (stat("$gib/.asud-slots/0/.config"))[1];
my $new = 'r99999-0123456789';
$v->bump_revision('releases/23.05.4/targets/ath79/generic', $old, $new);
my $deadline = time + 20;
my $seen = '';
while ($seen ne $new && time < $deadline) {
	$seen = $v->get('/api/v1/revision/23.05.4/ath79/generic')
	    ->{json}{revision} // '';
	sleep 0.3;
}
is($seen, $new, 'moves: upstream offers the new revision');
@h = post_batch('new', 2);
(undef, undef, @res) = watch(@h);
is(scalar(grep { ($_->{json}{version_code} // '') eq $new } @res), 2,
    'moves: both built with the new revision');
$made = () = $v->log_text =~ /making the build slot/g;
is($made, 4, 'moves: the slots were made again');
my $cfg = do { local (@ARGV, $/) = ("$gib/.asud-slots/0/include/version.mk");
    <> } // '';
like($cfg, qr/\Q$new\E/, 'moves: the new slot is of the new ImageBuilder');
isnt((stat("$gib/.asud-slots/0/.config"))[1], $ino,
    'moves: not the old slot');
is($v->stop, 0, 'moves: clean stop');
$v->check_log_clean;
}

# 6. Downloads are shared: a package one slot fetched is linked into the
# ImageBuilder's dl/ and from there into the others; none is fetched again.
my $d = AsudTest->new(upstream => 'http', conf => { build_jobs => 4,
    allow_defaults => 'true' }, env => { STANDIN_TIME_SCALE => 1 });
$d->start;
$t = $d;
%BASE = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my $dm = $d->mirror;
my $dib = $d->ib_dir . '/1.2.3/testtarget/testsubtarget';
# The package files fetched from the mirror since a mark.
my $pkgs = sub { scalar grep { $_->{path} =~ /\.ipk$/ }
    $dm->requests(since => $_[0]) };
my $mark = $dm->mark;
(undef, undef, @res) = watch(post_batch('dl', 4));
is(scalar(grep { $_->{status} == 200 } @res), 4, 'shared: built');
ok($pkgs->($mark) > 0, 'shared: the first builds fetched packages');
my @kept = glob("$dib/dl/*.ipk");
ok(@kept, 'shared: the ImageBuilder keeps them in its dl/');
is(scalar(grep { (stat $_)[3] < 2 } @kept), 0,
    'shared: linked into it, not copied');
$mark = $dm->mark;
(undef, undef, @res) = watch(post_batch('dl again', 4));
is(scalar(grep { $_->{status} == 200 } @res), 4, 'shared: built again');
is($pkgs->($mark), 0, 'shared: no slot fetched a package again');
$mark = $dm->mark;
my ($more) = post_batch('more', 1, packages => ['test1', 'test2', 'luci']);
(undef, undef, @res) = watch($more);
is($res[0]{status}, 200, 'shared: a build with more packages');
my $fetched = $pkgs->($mark);
ok($fetched > 0, 'shared: it fetched the new ones');
$mark = $dm->mark;
(undef, undef, @res) = watch(post_batch('more again', 4,
    packages => ['test1', 'test2', 'luci']));
is(scalar(grep { $_->{status} == 200 } @res), 4,
    'shared: four more in the other slots');
is($pkgs->($mark), 0, 'shared: what one slot fetched the others found');
is($d->stop, 0, 'shared: clean stop');
$d->check_log_clean;
done_testing();
