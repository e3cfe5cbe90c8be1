# Builds end to end against the stand-in ImageBuilders: POST to 200, the
# download, the cache, HEAD, 404, aliases, the generic fallback, and the
# reference's build errors with their exact texts.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use Archive::Tar;
use Time::HiRes qw(time);
use AsudTest;

my $t = AsudTest->new(
	only => ['1.2.3/testtarget/testsubtarget', '23.05.4/ath79/generic',
	    '23.05.4/x86/64'],
	conf => { allow_defaults => 'true' },
);
$t->start;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');

# 1. A build from POST to 200.
my $t0 = time;
my $post = $t->post('/api/v1/build', { %base, packages => ['test1', 'test2'] });
is($post->{status}, 202, 'new build is accepted with 202');
is($post->{json}{status}, 202, 'JSON status equals the HTTP code');
is($post->{json}{detail}, 'queued', 'detail queued');
ok(exists $post->{json}{queue_position}, 'queue_position in a queued answer');
like($post->{json}{request_hash}, qr/^[0-9a-f]{64}$/, 'full request hash');
ok(defined $post->{headers}{'x-imagebuilder-status'}, 'X-Imagebuilder-Status');
ok(defined $post->{headers}{'x-queue-position'}, 'X-Queue-Position');
my $hash = $post->{json}{request_hash};
my $done = $t->wait_build($hash);
my $elapsed = time - $t0;
is($done->{status}, 200, 'the build finishes with 200');
my $r = $done->{json};
is($r->{status}, 200, 'JSON status 200');
is($r->{detail}, 'done', 'detail done');
is($r->{imagebuilder_status}, 'done', 'imagebuilder_status done');
is($r->{bin_dir}, $hash, 'bin_dir is the request hash');
is($r->{id}, 'testprofile', 'id is the profile');
is($r->{manifest}{test1}, '1.0', 'manifest test1 = 1.0');
is($r->{request_hash}, $hash, 'request_hash');
ok($r->{enqueued_at}, 'enqueued_at');
like($r->{build_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
    'build_at is UTC');
is($r->{build_cmd}[1], 'image', 'build_cmd is make image');
like($r->{build_cmd}[3], qr/^PACKAGES=.*test1 test2$/,
    'build_cmd[3] is PACKAGES with the user order');
is(ref $r->{request}, 'HASH', 'request echoed');
is($r->{request}{profile}, 'testprofile', 'request.profile');
is($done->{headers}{'x-imagebuilder-status'}, 'done', 'header done');
is($done->{headers}{'x-queue-position'}, '0', 'header position 0');
ok(ref $r->{images} eq 'ARRAY' && @{ $r->{images} }, 'images listed');
diag(sprintf('POST to 200 on the stand-in: %.0f ms', $elapsed * 1000));

# The download is the exact bytes whose sha256 the answer lists.
for my $img (@{ $r->{images} }) {
	my $dl = $t->get("/store/$r->{bin_dir}/$img->{name}");
	is($dl->{status}, 200, "download $img->{type}");
	is(sha256_hex($dl->{content}), $img->{sha256}, "sha256 of $img->{type}");
	is($dl->{headers}{'content-length'}, length $dl->{content},
	    'Content-Length');
	is($dl->{headers}{'content-type'}, 'application/octet-stream',
	    'binary content type');
}
my $hd = $t->head("/store/$r->{bin_dir}/$r->{images}[0]{name}");
is($hd->{status}, 200, 'HEAD on a stored file');
is($hd->{headers}{'content-length'}, length(
    $t->get("/store/$r->{bin_dir}/$r->{images}[0]{name}")->{content}),
    'HEAD gives the length');
is($t->get("/store/$hash/nope.bin")->{status}, 404, 'missing file 404');

# 2. The same POST again is answered from the record.
my $again = $t->post('/api/v1/build', { %base, packages => ['test2', 'test1'] });
is($again->{status}, 200, 'second identical POST is a 200 from the cache');
is($again->{content}, $done->{content}, 'same body as the poll');

# 3. HEAD on the build: same headers, no body.
my $head = $t->head("/api/v1/build/$hash");
is($head->{status}, 200, 'HEAD 200');
is($head->{headers}{'x-imagebuilder-status'}, 'done', 'HEAD status header');
is($head->{headers}{'x-queue-position'}, '0', 'HEAD position header');
is($head->{content} // '', '', 'HEAD has no body');

# 4. Unknown hash.
my $nf = $t->get('/api/v1/build/' . ('0' x 64));
is($nf->{status}, 404, 'unknown hash 404');
is_deeply($nf->{json}, { status => 404, title => 'Not Found',
    detail => 'could not find provided request hash' }, '404 body');
is($t->post("/api/v1/build/$hash", {})->{status}, 405, 'POST on a hash 405');

# 5. A comma profile alias builds under the canonical id.
my $alias = $t->build({ version => '23.05.4', target => 'ath79/generic',
    profile => '8dev,carambola2', packages => [] });
is($alias->{status}, 200, 'comma alias builds');
is($alias->{json}{id}, '8dev_carambola2', 'canonical id for the alias');
is($alias->{json}{request}{profile}, '8dev_carambola2',
    'request profile has , turned into _');

# 6. The generic fallback.
my $gen = $t->build({ version => '23.05.4', target => 'x86/64',
    profile => 'some-pc-board', packages => [] });
is($gen->{status}, 200, 'any profile on a generic-only target builds');
is($gen->{json}{id}, 'generic', 'id generic');

# 7. An unknown package.
my $miss = $t->build({ %base, packages => ['this-package-does-not-exist'] });
is($miss->{status}, 500, 'unknown package fails with 500');
is($miss->{json}{detail},
    'Error: Impossible package selection: missing (this-package-does-not-exist)',
    'missing package message');
is($miss->{headers}{'x-imagebuilder-status'}, 'failed', 'header failed');
ok(length $miss->{json}{stderr}, 'stderr of the failing command');
my $miss2 = $t->post('/api/v1/build',
    { %base, packages => ['this-package-does-not-exist'] });
is($miss2->{status}, 500, 'a cached failure is answered as it is');

# 8. A selection too big for the device.
my $big = $t->build({ version => '23.05.4', target => 'ath79/generic',
    profile => 'tplink_archer-c7-v5', packages => ['huge-package'] });
is($big->{status}, 500, 'too big fails');
is($big->{json}{detail}, 'Error: Selected packages exceed device storage',
    'storage message');

# 9. version_code mismatch.
my $vc = $t->build({ %base, version_code => 'some-bad-version-code' });
is($vc->{status}, 500, 'version_code mismatch fails');
is($vc->{json}{detail}, 'Error: Received incorrect version '
    . 'r12647-cb44ab4f5d (requested some-bad-version-code)',
    'incorrect version message');
my $vcok = $t->build({ %base, version_code => 'r12647-cb44ab4f5d' });
is($vcok->{status}, 200, 'the right version_code builds');

# packages_versions: checked against the manifest.
my $pv = $t->build({ %base, packages_versions => { test1 => '0.0' } });
is($pv->{status}, 500, 'packages_versions mismatch fails');
is($pv->{json}{detail}, 'Error: Impossible package selection: test1 '
    . 'version not as requested: 0.0 vs. 1.0', 'packages_versions message');

# diff_packages, rootfs size and filesystem reach make image.
my $diff = $t->build({ %base, packages => [qw(test1 zzz test2 aaa)],
    diff_packages => JSON::PP::true, rootfs_size_mb => 100,
    filesystem => 'squashfs' });
is($diff->{status}, 200, 'diff_packages build');
is($diff->{json}{build_cmd}[3], 'PACKAGES=-base-files -busybox -dnsmasq '
    . '-dropbear -firewall -fstools -ip6tables -iptables -kmod-ath9k '
    . '-kmod-gpio-button-hotplug -kmod-ipt-offload -kmod-usb-chipidea2 '
    . '-kmod-usb-storage -kmod-usb2 -libc -libgcc -logd -mtd -netifd '
    . '-odhcp6c -odhcpd-ipv6only -opkg -ppp -ppp-mod-pppoe -swconfig '
    . '-uboot-envtools -uci -uclient-fetch -urandom-seed -urngd -wpad-basic '
    . 'test1 zzz test2 aaa', 'the diff_packages PACKAGES string');
is($diff->{json}{build_cmd}[6], 'ROOTFS_PARTSIZE=100', 'build_cmd[6]');
ok((grep { $_ eq 'ROOTFS_FILESYSTEM=squashfs' } @{ $diff->{json}{build_cmd} }),
    'ROOTFS_FILESYSTEM passed');

# 10. A defaults script ends up in the image.
my $script = "uci set system.\@system[0].hostname='asud-test'\nuci commit\n";
my $def = $t->build({ %base, defaults => $script });
is($def->{status}, 200, 'build with defaults');
my ($img) = grep { $_->{type} ne 'kernel' } @{ $def->{json}{images} };
my $bytes = $t->get("/store/$def->{json}{bin_dir}/$img->{name}")->{content};
my $tar = Archive::Tar->new;
open(my $tfh, '<', \$bytes) or die;
$tar->read($tfh);
is($tar->get_content('etc/uci-defaults/99-asu-defaults'), $script,
    'the defaults script is in the image');
is($def->{json}{request}{defaults}, $script,
    'the script is echoed to its own hash only');

# A failed build leaves no store directory behind.
ok(!-e $t->state_dir . "/store/$miss->{json}{request_hash}",
    'no store directory for a failed build');
ok(-d $t->state_dir . "/store/$hash", 'store directory of a good build');

is($t->stop, 0, 'clean stop');
$t->check_log_clean;

# 11. A timeout: a slow stand-in and a one-second job limit.
my $slow = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget'],
    conf => { job_timeout => 1 }, env => { STANDIN_TIME_SCALE => 5 });
$slow->start;
my $to = $slow->build({ %base }, timeout => 60);
is($to->{status}, 500, 'a build over job_timeout fails');
like($to->{json}{detail}, qr/^Error: Build timed out after 1 seconds?/,
    'timeout message');
is($slow->stop, 0, 'clean stop after a timeout');
$slow->check_log_clean;

# 12. Results expire: answered until their time is up, then gone (also
# from the answers kept in memory), and a new POST builds again. Expiry
# is counted in whole seconds, so a result lives between 4 and 5 s here:
# time enough for the polls that see it before it goes.
my $ttl = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget'],
    conf => { map { $_ => '5s' } qw(build_ttl build_ttl_unversioned
    build_defaults_ttl build_failure_ttl) });
$ttl->start;
my $done = $ttl->build({ %base, packages => ['test1'] });
is($done->{status}, 200, 'ttl: built');
my $th = $done->{json}{request_hash} // '';
is($ttl->get("/api/v1/build/$th")->{status}, 200, 'ttl: answered again');
is($ttl->get("/api/v1/build/$th")->{content}, $done->{content},
    'ttl: the same bytes');
my $gone;
my $until = time + 30;
while (time < $until) {
	$gone = $ttl->get("/api/v1/build/$th");
	last if $gone->{status} != 200;
	Time::HiRes::sleep(0.2);
}
is($gone->{status}, 404, 'ttl: past its time the result is gone');
my $anew = $ttl->post('/api/v1/build', { %base, packages => ['test1'] });
is($anew->{status}, 202, 'ttl: a new POST builds again');
is($ttl->wait_build($th)->{status}, 200, 'ttl: and it is answered again');
is($ttl->stop, 0, 'ttl: clean stop');
$ttl->check_log_clean;

done_testing();
