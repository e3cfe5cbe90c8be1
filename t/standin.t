#!/usr/bin/perl
#
# standin.t: checks the stand-in ImageBuilder and its generator against
# what a driving server observes of the real ones (texts, exit codes,
# BIN_DIR contents) and the stand-in downloads mirror layout.
#
use v5.36;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Archive::Tar;
use IO::Uncompress::Gunzip;
use JSON::PP;
use POSIX qw(_exit);
use Test::More;

$ENV{STANDIN_TIME_SCALE} = 0;
delete @ENV{qw(MAKEFLAGS MAKELEVEL MFLAGS PROFILE PACKAGES FILES BIN_DIR
    PACKAGE)};

my $SRC = $ENV{ASUD_TOP_SRCDIR} // dirname(abs_path(__FILE__)) . '/..';
my $DATA = $ENV{ASUD_TEST_DATA} // "$SRC/t/data";
my $MK = "$SRC/t/standin/mkstandin";
my $TMP = tempdir('standin-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $ROOT = "$TMP/ib";

# Reads a file, or returns undef.
sub slurp ($path) {
	open(my $fh, '<:raw', $path) or return undef;
	local $/;
	return scalar <$fh>;
}

# Writes a file, creating its directory.
sub spew ($path, $data) {
	make_path(dirname($path));
	open(my $fh, '>:raw', $path) or die "$path: $!";
	print $fh $data;
	close($fh);
}

# Runs argv in dir with stdout and stderr captured; returns
# (exit code, stdout, stderr).
sub run_in ($dir, @argv) {
	my ($out, $err) = ("$TMP/.out", "$TMP/.err");
	my $pid = fork() // die "fork: $!";

	if ($pid == 0) {
		chdir($dir) or _exit(126);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out) or _exit(126);
		open(STDERR, '>', $err) or _exit(126);
		exec(@argv) or _exit(127);
	}
	waitpid($pid, 0);
	return ($? >> 8, slurp($out) // '', slurp($err) // '');
}

# Runs make in an ImageBuilder, as a server does (cwd, argv, no shell).
sub imake ($ib, @args) {
	return run_in($ib, 'make', @args);
}

# The stand-in ImageBuilder directory of version/target/subtarget.
sub ib ($v, $t) {
	return "$ROOT/$v/$t";
}

# Checks that text contains an exact block of lines.
sub contains ($text, $block, $name) {
	ok(index($text, $block) >= 0, $name) or diag("missing:\n$block");
}

# The make error line of a target, as a pattern.
sub chain ($level, $file, $target, $code) {
	my $who = $level ? "make\\[$level\\]" : 'make';

	return "^$who: \\*\\*\\* \\[$file:\\d+: $target\\] Error $code\$";
}

# Lines matching a pattern, for compact checks of logs.
sub grep_lines ($re, $text) {
	return grep { /$re/ } split /\n/, $text;
}

# --- generation -------------------------------------------------------------

my ($rc, $out, $err) = run_in($TMP, $^X, $MK, '--ib-root', $ROOT,
    '--only', '1.2.3/testtarget/testsubtarget',
    '--only', '23.05.4/ath79/generic', '--only', 'SNAPSHOT/ath79/generic');
is($rc, 0, 'mkstandin succeeds');
is($out . $err, '', 'mkstandin prints nothing on success');
ok(-f ib('1.2.3', 'testtarget/testsubtarget') . '/.targetinfo',
    '1.2.3 ImageBuilder written');
ok(!-e "$ROOT/23.05.4/x86", '--only limits the work');
ok(-f ib('SNAPSHOT', 'ath79/generic') . '/repositories'
    && !-e ib('SNAPSHOT', 'ath79/generic') . '/repositories.conf',
    'apk flavour has repositories, not repositories.conf');
ok(-f ib('23.05.4', 'ath79/generic') . '/repositories.conf'
    && !-e ib('23.05.4', 'ath79/generic') . '/repositories',
    'opkg flavour has repositories.conf, not repositories');

($rc, $out, $err) = run_in($TMP, $^X, $MK, '--ib-root', $ROOT,
    '--only', '9.9.9/none/none');
isnt($rc, 0, 'unknown --only fails');
like($err, qr/unknown stand-in '9\.9\.9\/none\/none'/, 'and says why');

my $T = ib('1.2.3', 'testtarget/testsubtarget');
my $A = ib('23.05.4', 'ath79/generic');
my $S = ib('SNAPSHOT', 'ath79/generic');

# --- info, help, val --------------------------------------------------------

my $defaults = 'base-files libc libgcc busybox dropbear mtd uci opkg netifd '
    . 'fstools uclient-fetch logd urandom-seed urngd kmod-gpio-button-hotplug '
    . 'kmod-ath9k wpad-basic uboot-envtools dnsmasq iptables ip6tables ppp '
    . 'ppp-mod-pppoe firewall odhcpd-ipv6only odhcp6c kmod-ipt-offload';
my $info = <<"EOF";
Current Target: "testtarget/testsubtarget"
Current Architecture: "mips"
Current Revision: "r12647-cb44ab4f5d"
Default Packages: $defaults
Available Profiles:

Default:
    Default Profile
    Packages: 
    hasImageMetadata: 1
8dev_carambola2:
    8devices Carambola2
    Packages: kmod-usb-chipidea2
    hasImageMetadata: 1
    SupportedDevices: 8dev,carambola2 carambola2
testprofile:
    Not Real Device
    Packages: kmod-usb2 kmod-usb-chipidea2 kmod-usb-storage -swconfig
    hasImageMetadata: 1
EOF
($rc, $out, $err) = imake($T, 'info');
is($rc, 0, 'make info exits 0');
is($out, $info, 'make info output is byte-exact');
ok(-f "$T/.profiles.mk", '.profiles.mk generated on first use');

($rc, $out) = imake($A, 'info');
contains($out, "\ntplink_archer-c7-v5:\n    TP-Link Archer C7 v5\n"
    . '    Packages: kmod-usb2 kmod-usb-ledtrig-usbport kmod-ath10k-ct '
    . "ath10k-firmware-qca988x-ct\n    hasImageMetadata: 1\n"
    . "    SupportedDevices: tplink,archer-c7-v5 archer-c7-v5\n",
    '23.05.4 profile block from the real profiles.json');
like($out, qr/^Current Revision: "r24012-d8dd03c46f"$/m,
    '23.05.4 revision is the real version_code');
is(scalar(grep_lines(qr/^\S+:$/, $out)), 349, 'all 349 ath79 profiles');

($rc, $out) = imake($T);
is($rc, 0, 'make without a target exits 0');
like($out, qr/^Available Commands:/, 'and prints the help');

($rc, $out) = imake($T, 'val.KERNEL_BUILD_DIR');
is($out, "$T/build_dir/target-testarch_musl/linux-testtarget_testsubtarget\n",
    'make val.KERNEL_BUILD_DIR');

# --- manifest ---------------------------------------------------------------

my $diff = '-base-files -busybox -dnsmasq -dropbear -firewall -fstools '
    . '-ip6tables -iptables -kmod-ath9k -kmod-gpio-button-hotplug '
    . '-kmod-ipt-offload -kmod-usb-chipidea2 -kmod-usb-storage -kmod-usb2 '
    . '-libc -libgcc -logd -mtd -netifd -odhcp6c -odhcpd-ipv6only -opkg -ppp '
    . '-ppp-mod-pppoe -swconfig -uboot-envtools -uci -uclient-fetch '
    . '-urandom-seed -urngd -wpad-basic test1 zzz test2 aaa';
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    "PACKAGES=$diff", 'STRIP_ABI=1');
is($rc, 0, 'manifest with the diff_packages vector exits 0');
like($err, qr/^Generate local signing keys\.\.\.$/m,
    'first build generates the local keys (stderr)');
like($err, qr/^Package list missing or not up-to-date, generating it\.$/m,
    'and the local package index');
like($err, qr/^Signature check passed\.$/m, 'opkg update noise on stderr');
my @names = map { (split / - /)[0] } split /\n/, $out;
is_deeply(\@names, [ qw(aaa kernel libc test1 test2 zzz) ],
    'the vector removes every default; kernel and libc stay');
like($out, qr/^test1 - 1\.0$/m, 'manifest has test1 - 1.0');
like($out, qr/^test2 - 2\.0$/m, 'manifest has test2 - 2.0');
like($out, qr/^kernel - 4\.14\.169-1-[0-9a-f]{32}$/m, 'kernel version');

($rc, $out) = imake($T, 'manifest', 'PROFILE=testprofile');
@names = map { (split / - /)[0] } split /\n/, $out;
is_deeply(\@names, [ sort @names ], 'manifest is sorted');
ok(!grep({ $_ eq 'swconfig' } @names), 'profile -swconfig removes swconfig');
ok(grep({ $_ eq 'kmod-usb-storage' } @names), 'profile packages installed');
ok(grep({ $_ eq 'kmod-usb-core' } @names), 'dependencies installed');
is(scalar(grep { !/^\S+ - \S+$/ } split /\n/, $out), 0,
    'stdout holds only manifest lines');

($rc, $out) = imake($A, 'manifest', 'PROFILE=tplink_archer-c7-v5');
like($out, qr/^libubox20230523 - \S+$/m, 'ABI name without STRIP_ABI');
like($out, qr/^libgcc1 - \S+$/m, 'libgcc resolves to libgcc1 (Provides)');
($rc, $out) = imake($A, 'manifest', 'PROFILE=tplink_archer-c7-v5',
    'STRIP_ABI=1');
like($out, qr/^libubox - \S+$/m, 'STRIP_ABI=1 strips the ABI suffix');
unlike($out, qr/^libubox20230523 /m, 'and the ABI name is gone');

($rc, $out) = imake($A, 'manifest', 'PROFILE=tplink_archer-c7-v5',
    'PACKAGES=-dnsmasq dnsmasq-full');
is($rc, 0, '-dnsmasq dnsmasq-full resolves');
like($out, qr/^dnsmasq-full - /m, 'dnsmasq-full installed');
unlike($out, qr/^dnsmasq - /m, 'dnsmasq removed');

# --- failures ---------------------------------------------------------------

($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=foo');
is($rc, 2, 'unknown profile exits 2');
is($out, "Profile \"foo\" does not exist!\n"
    . "Use \"make info\" to get a list of available profile names.\n",
    'unknown profile message on stdout');
like($err, qr/^make\[1\]: \*\*\* \[Makefile:\d+: _check_profile\] Error 1\n/m,
    'unknown profile: _check_profile Error 1');
like($err, qr/^make: \*\*\* \[Makefile:\d+: manifest\] Error 2$/m,
    'unknown profile: manifest Error 2');

($rc, $out, $err) = imake($T, 'image', 'PROFILE=testprofile',
    'PACKAGES=test1 nope', "BIN_DIR=$TMP/bin-missing");
is($rc, 2, 'missing package exits 2');
like($out, qr/^Unknown package 'nope'\.$/m, 'image stdout: Unknown package');
contains($err, "Collected errors:\n"
    . " * opkg_install_cmd: Cannot install package nope.\n",
    'opkg Collected errors block');
my $re = join('\n', chain(2, 'Makefile', 'package_install', 255),
    chain(1, 'Makefile', '_call_image', 2), chain(0, 'Makefile', 'image', 2));
like($err, qr/$re\n\z/m, 'make error chain of a failed install');

($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=nope');
is($rc, 2, 'manifest with a missing package exits 2');
is($out, '', 'manifest stdout stays empty on failure');
like($err, qr/_call_manifest\] Error 2/, 'chain goes through _call_manifest');

($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=conflict-a conflict-b');
is($rc, 2, 'conflict exits 2');
contains($err, "Collected errors:\n * check_conflicts_for: The following "
    . "packages conflict with conflict-b:\n"
    . " * check_conflicts_for: \tconflict-a *\n"
    . " * opkg_install_cmd: Cannot install package conflict-b.\n",
    'opkg conflict text');

($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=needs-missing');
is($rc, 2, 'unsatisfiable dependency exits 2');
contains($err, " * satisfy_dependencies_for: Cannot satisfy the following "
    . "dependencies for needs-missing:\n * \tlibdoesnotexist\n"
    . " * opkg_install_cmd: Cannot install package needs-missing.\n",
    'opkg unsatisfiable dependency text');

($rc, $out, $err) = imake($A, 'manifest', 'PROFILE=tplink_archer-c7-v5',
    'PACKAGES=dnsmasq-full');
is($rc, 2, 'dnsmasq-full next to dnsmasq fails');
like($err, qr/^ \* check_data_file_clashes: Package dnsmasq wants to /m,
    'opkg file clash text');
contains($err, "/etc/config/dhcp\n\tBut that file is already provided by "
    . "package  * dnsmasq-full\n", 'opkg file clash owner');

($rc, $out, $err) = imake($S, 'manifest', 'PROFILE=8dev_carambola2',
    'PACKAGES=nope');
is($rc, 2, 'apk missing package exits 2');
contains($err, "ERROR: unable to select packages:\n"
    . "  nope (no such package):\n    required by: world[nope]\n",
    'apk missing package text');
like($err, qr/^make\[2\]: \*\*\* \[Makefile:\d+: package_install\] Error 1$/m,
    'apk exits with the number of problems');

($rc, $out, $err) = imake($S, 'manifest', 'PROFILE=8dev_carambola2',
    'PACKAGES=conflict-a conflict-b');
contains($err, "  conflict-a-1.0-r1:\n"
    . "    conflicts: conflict-b-1.0-r1[conflict-ab=1.0-r1]\n"
    . "    satisfies: world[conflict-a]\n", 'apk conflict text');
like($err, qr/package_install\] Error 2$/m, 'two problems, Error 2');

($rc, $out, $err) = imake($S, 'manifest', 'PROFILE=8dev_carambola2',
    'PACKAGES=needs-missing');
contains($err, "  libdoesnotexist (no such package):\n"
    . "    required by: needs-missing-1.0-r1[libdoesnotexist]\n",
    'apk unsatisfiable dependency text');

($rc, $out, $err) = imake($S, 'manifest', 'PROFILE=8dev_carambola2',
    'PACKAGES=test1', 'STRIP_ABI=1');
is($rc, 0, 'apk manifest exits 0');
like($out, qr/^test1 1\.0$/m, 'apk manifest is "name version"');
unlike($out, qr/ - /, 'no opkg separator in the apk manifest');
like($out, qr/^libubox20240329 |^libubox20230523 /m,
    'apk ignores STRIP_ABI');

($rc, $out, $err) = imake($T, 'image', 'PROFILE=testprofile',
    'BIN_DIR=relative/bin');
is($rc, 2, 'relative BIN_DIR fails');
like($err, qr/BIN_DIR must be an absolute path/, 'and says why');

# --- a good image -----------------------------------------------------------

my $files = "$TMP/files";
my $defaults_script = "uci set system.\@system[0].hostname='standin'\n";
spew("$files/etc/uci-defaults/99-asu-defaults", $defaults_script);
my $bin = "$TMP/bin";
($rc, $out, $err) = imake($T, 'image', 'PROFILE=testprofile',
    "PACKAGES=$diff", 'EXTRA_IMAGE_NAME=0123456789AB_x y',
    "BIN_DIR=$bin", "FILES=$files", 'ROOTFS_PARTSIZE=100');
is($rc, 0, 'make image exits 0');
my @steps = ('Building images for testtarget - Not Real Device',
    "Packages: test1 zzz test2 aaa kernel", 'Installing packages...',
    'Installing test1 (1.0) to root...', 'Finalizing root filesystem...',
    'Building images...', 'Calculating checksums...');
my $pos = 0;
my $in_order = 1;
for my $s (@steps) {
	my $i = index($out, $s, $pos);
	$in_order = 0, last if $i < 0;
	$pos = $i + length($s);
}
ok($in_order, 'image log lines in the real order');
unlike($err, qr/^Generate local signing keys/m, 'keys are made only once');

my $prefix = 'openwrt-1.2.3-0123456789ab-x-y-testtarget-testsubtarget-'
    . 'testprofile';
my @want = map { "$prefix-$_" } qw(ext4-combined-efi.img.gz
    ext4-combined.img.gz ext4-rootfs.img.gz squashfs-combined-efi.img.gz
    squashfs-combined.img.gz squashfs-rootfs.img.gz);
opendir(my $dh, $bin);
my @have = sort grep { !/^\./ } readdir($dh);
closedir($dh);
is_deeply(\@have, [ sort(@want, "$prefix.manifest", 'profiles.json',
    'sha256sums') ], 'BIN_DIR holds the images, manifest, profiles.json, '
    . 'sha256sums (EXTRA_IMAGE_NAME sanitised)');

my $sums = slurp("$bin/sha256sums") // '';
my $expect = join('', map { sha256_hex(slurp("$bin/$_")) . " *$_\n" }
    grep { $_ ne 'sha256sums' } @have);
is($sums, $expect, 'sha256sums: every file but itself, sorted, right digests');

my $pj = slurp("$bin/profiles.json") // '';
unlike($pj, qr/\n\z/, 'profiles.json has no trailing newline');
my $json = eval { JSON::PP->new->decode($pj) } // {};
is($json->{version_code}, 'r12647-cb44ab4f5d', 'profiles.json version_code');
is($json->{target}, 'testtarget/testsubtarget', 'profiles.json target');
is($json->{metadata_version}, 1, 'profiles.json metadata_version');
is(ref $json->{linux_kernel}, 'HASH', 'profiles.json linux_kernel');
is_deeply([ keys %{$json->{profiles} // {}} ], [ 'testprofile' ],
    'profiles.json lists only the built profile');
my $prof = $json->{profiles}{testprofile} // {};
is($prof->{image_prefix}, $prefix, 'image_prefix');
my %digest = map { $_->{name} => $_->{sha256} } @{$prof->{images} // []};
is_deeply(\%digest, { map { $_ => sha256_hex(slurp("$bin/$_")) } @want },
    'profiles.json sha256 of every image');
is(scalar(keys %{{ reverse %digest }}), scalar(@want),
    'every image has different bytes');
is($pj, JSON::PP->new->canonical->encode($json),
    'profiles.json is compact with sorted keys');

like(slurp("$bin/$prefix.manifest") // '', qr/^test1 - 1\.0$/m,
    'manifest file in BIN_DIR');

my $tar = Archive::Tar->new("$bin/$prefix-squashfs-combined.img.gz");
ok($tar, 'an image is a readable tar');
is($tar ? $tar->get_content('etc/uci-defaults/99-asu-defaults') : undef,
    $defaults_script, 'the defaults file is inside the image');
like($tar ? $tar->get_content('usr/lib/opkg/status') : '',
    qr/^Package: test1\nVersion: 1\.0\n/m, 'the image lists its packages');

($rc, $out, $err) = imake($T, 'image', 'PROFILE=8dev_carambola2',
    "BIN_DIR=$bin");
$json = eval { JSON::PP->new->decode(slurp("$bin/profiles.json")) } // {};
is_deeply([ sort keys %{$json->{profiles} // {}} ],
    [ '8dev_carambola2', 'testprofile' ],
    'a second build merges into profiles.json');

# --- size failures ----------------------------------------------------------

my $bin2 = "$TMP/bin-big";
($rc, $out, $err) = imake($A, 'image', 'PROFILE=tplink_archer-c7-v5',
    'PACKAGES=huge-package', "BIN_DIR=$bin2");
is($rc, 0, 'too big is a soft failure: exit 0');
my $big = 'openwrt-23.05.4-ath79-generic-tplink_archer-c7-v5-squashfs-'
    . 'sysupgrade.bin';
like($err, qr{^\ {4}WARNING:\ Image\ file\ \S+/tmp/\Q$big\E
    \ is\ too\ big:\ \d+\ >\ 16252928$}mx, 'the WARNING line');
ok(!-e "$bin2/$big", 'the image is not written');
ok(!-e "$bin2/profiles.json", 'no profiles.json without images');
contains($out, "\nJSON info file script could not find any JSON files "
    . "for target\n", 'the JSON script says so');
like($out, qr/^Skip JSON creation for non existing file /m,
    'and skips each missing image');

($rc, $out, $err) = imake($T, 'image', 'PROFILE=testprofile',
    "BIN_DIR=$TMP/bin-ext4", 'ROOTFS_PARTSIZE=1');
is($rc, 2, 'ext4 overflow is a hard failure: exit 2');
like($err, qr/^error:\ ext4_allocate_best_fit_partial:\ failed\ to\ allocate
    \ \d+\ blocks,\ out\ of\ space\?$/mx, 'the ext4 error line');
$re = join('\n', chain(3, '\S+/include/image\.mk', '\S+/root\.ext4', 1),
    chain(2, 'Makefile', 'build_image', 2),
    chain(1, 'Makefile', '_call_image', 2), chain(0, 'Makefile', 'image', 2));
like($err, qr/$re/m, 'the ext4 make chain');

($rc, $out, $err) = imake($T, 'image', 'PROFILE=testprofile',
    "BIN_DIR=$TMP/bin-sq", 'ROOTFS_PARTSIZE=1', 'ROOTFS_FILESYSTEM=squashfs');
is($rc, 0, 'ROOTFS_FILESYSTEM=squashfs skips ext4');
like($err, qr/is too big: \d+ > 1048576$/m,
    'squashfs over the partition is a soft failure');

# --- package_depends / package_whatdepends ----------------------------------

($rc, $out, $err) = imake($A, 'package_depends', 'PACKAGE=procd');
like($out, qr/^procd depends on:\n(\t\S+\n)+\z/, 'opkg depends format');
like($out, qr/^\tlibubox20230523$/m, 'depends lists ABI names');
($rc, $out, $err) = imake($A, 'package_whatdepends', 'PACKAGE=procd');
like($out, qr/^Root\ set:\n\ \ procd\nWhat\ depends\ on\ root\ set\n
    (\t\S+\ \S+\tdepends\ on\ procd\n)+\z/x, 'opkg whatdepends format');
like($out, qr/^\tprocd-ujail \S+\tdepends on procd$/m,
    'whatdepends lists users');
($rc, $out, $err) = imake($A, 'package_depends');
is($rc, 2, 'package_depends without PACKAGE exits 2');
is($out, "Variable `PACKAGE` is not set but required by `package_depends`\n",
    'and says so on stdout');
($rc, $out, $err) = imake($A, 'package_whatdepends');
is($out, "Variable `PACKAGE` is not set but required by `whatdepends`\n",
    'whatdepends says so too');

# --- custom feeds, local packages, services --------------------------------

my $feed = "$TMP/feed";
spew("$feed/Packages", "Package: custom-pkg\nVersion: 3.1-1\nDepends: libc\n"
    . "Architecture: testarch\nInstalled-Size: 1000\n"
    . "Filename: custom-pkg_3.1-1_testarch.ipk\n\n"
    . "Package: wrong-arch\nVersion: 1\nArchitecture: other\n\n");
my $conf = slurp("$T/repositories.conf");
spew("$T/repositories.conf", "$conf\nsrc/gz custom file://$feed\n");
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=custom-pkg');
is($rc, 2, 'a package whose file is missing from its feed fails');
my $url = "file://$feed/custom-pkg_3.1-1_testarch.ipk";
like($err, qr/^Collected\ errors:\n\ \*\ opkg_download:\ Failed\ to\ download
    \ \Q$url\E,\ wget\ returned\ 8\.$/mx, 'as opkg says a download failed');
spew("$feed/custom-pkg_3.1-1_testarch.ipk", "stand-in package\n");
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=custom-pkg');
is($rc, 0, 'a file:// feed in repositories.conf is read');
like($out, qr/^custom-pkg - 3\.1-1$/m, 'and its package installed');
is(slurp("$T/dl/custom-pkg_3.1-1_testarch.ipk"), "stand-in package\n",
    'its file copied into dl/');
my $fixed = slurp("$feed/Packages");
spew("$feed/Packages", $fixed =~ s/^(Filename: custom-pkg.*\n)/$1Size: 17\n/mr
    =~ s/^(Size: 17\n)/$1SHA256sum: ${\ ('0' x 64)}\n/mr);
unlink("$T/dl/custom-pkg_3.1-1_testarch.ipk");
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=custom-pkg');
is($rc, 2, 'a package file with the wrong digest fails');
like($err, qr/^ \* opkg_install_pkg: Package custom-pkg sha256sum mismatch\./m,
    'as opkg says so');
ok(!-e "$T/dl/custom-pkg_3.1-1_testarch.ipk", 'and it is not kept in dl/');
spew("$feed/Packages", $fixed);
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=wrong-arch');
is($rc, 2, 'a package of another architecture is not installable');
spew("$T/repositories.conf", $conf);

my ($ctl, $ipk) = (Archive::Tar->new, Archive::Tar->new);
$ctl->add_data('./control', "Package: local-pkg\nVersion: 0.9-1\n"
    . "Depends: libc\nArchitecture: all\nInstalled-Size: 2000\n");
my $ctl_gz;
open(my $cfh, '>', \$ctl_gz) or die;
$ctl->write($cfh, Archive::Tar::COMPRESS_GZIP());
close($cfh);
$ipk->add_data('./debian-binary', "2.0\n");
$ipk->add_data('./control.tar.gz', $ctl_gz);
$ipk->write("$T/packages/local-pkg_0.9-1_all.ipk",
    Archive::Tar::COMPRESS_GZIP());
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile',
    'PACKAGES=local-pkg');
is($rc, 0, 'an .ipk dropped into packages/ is installable');
like($out, qr/^local-pkg - 0\.9-1$/m, 'with its own version');
like($err, qr/^Package list missing or not up-to-date, generating it\.$/m,
    'after rebuilding the local index');

($rc, $out, $err) = imake($T, 'image', 'PROFILE=testprofile',
    "BIN_DIR=$TMP/bin-svc", 'DISABLED_SERVICES=dropbear');
like($out, qr/^Disabling dropbear$/m, 'DISABLED_SERVICES: Disabling line');
like($out, qr/^Enabling network$/m, 'other services: Enabling lines');
($rc, $out, $err) = imake($T, 'image', 'PROFILE=testprofile',
    "BIN_DIR=$TMP/bin-slash", 'EXTRA_IMAGE_NAME=../x');
is($rc, 2, 'EXTRA_IMAGE_NAME with a slash is refused');

# --- the lock ---------------------------------------------------------------

my $holder = fork() // die "fork: $!";
if ($holder == 0) {
	sleep(60);
	_exit(0);
}
spew("$T/tmp/.standin-lock/pid", "$holder\n");
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile');
is($rc, 2, 'a directory in use fails with exit 2');
is((grep_lines(qr/^standin: /, $err))[0], "standin: ImageBuilder directory "
    . "$T is already in use by another build (pid $holder)",
    'with the in-use message');
kill('KILL', $holder);
waitpid($holder, 0);
($rc, $out, $err) = imake($T, 'manifest', 'PROFILE=testprofile');
is($rc, 0, 'a stale lock (dead pid) is taken over');
ok(!-e "$T/tmp/.standin-lock", 'the lock is released at the end');

# --- the mirror -------------------------------------------------------------

my $M = "$TMP/mirror";
($rc, $out, $err) = run_in($TMP, $^X, $MK, '--ib-root', "$TMP/ib-m",
    '--mirror', $M, '--data', $DATA,
    '--only', '1.2.3/testtarget/testsubtarget',
    '--only', 'SNAPSHOT/ath79/generic');
is($rc, 0, 'mkstandin --mirror succeeds');
is($out . $err, '', 'and prints nothing');

my $versions = eval { decode_json(slurp("$M/.versions.json")) } // {};
is_deeply($versions->{versions_list}, [ '1.2.3' ], '.versions.json list');
is($versions->{stable_version}, '1.2.3', '.versions.json stable');
is(slurp("$M/releases/1.2.3/.targets.json"),
    '{"testtarget/testsubtarget":"testarch"}', 'release .targets.json');
is(slurp("$M/snapshots/.targets.json"), '{"ath79/generic":"mips_24kc"}',
    'snapshot .targets.json');

my $td = "$M/releases/1.2.3/targets/testtarget/testsubtarget";
my $tarname = 'openwrt-imagebuilder-1.2.3-testtarget-testsubtarget'
    . '.Linux-x86_64.tar.zst';
ok(-f "$td/$tarname", 'ImageBuilder tarball');
my %sums = map { reverse split / \*/ } split /\n/, slurp("$td/sha256sums")
    // '';
ok($sums{$tarname} && $sums{$tarname} eq sha256_hex(slurp("$td/$tarname")),
    'sha256sums has the real digest of the tarball');
ok($sums{'profiles.json'} && $sums{'profiles.json'} eq
    sha256_hex(slurp("$td/profiles.json")), 'and of profiles.json');
open(my $tl, '-|', 'tar', '--zstd', '-tf', "$td/$tarname") or die;
my %tops = map { (split m{/})[0] => 1 } <$tl>;
close($tl);
(my $topname = $tarname) =~ s/\.tar\.zst$//;
is_deeply([ keys %tops ], [ $topname ],
    'one top-level directory, named like the file');

my $mp = eval { decode_json(slurp("$td/profiles.json")) } // {};
is($mp->{version_code}, 'r12647-cb44ab4f5d',
    'mirror profiles.json matches the ImageBuilder revision');
is($mp->{arch_packages}, 'testarch', 'mirror profiles.json arch');
ok($mp->{profiles}{testprofile}, 'mirror profiles.json has testprofile');
my $idx = eval { decode_json(slurp("$td/packages/index.json")) } // {};
is($idx->{version}, 2, 'target index.json is version 2');
$idx = eval { decode_json(slurp(
    "$M/releases/1.2.3/packages/testarch/packages/index.json")) } // {};
is($idx->{packages}{test1}, '1.0', 'feed index.json has test1 1.0');
$idx = eval { decode_json(slurp(
    "$M/releases/1.2.3/packages/testarch/base/index.json")) } // {};
ok($idx->{packages}{libubox} && !$idx->{packages}{libubox20230523},
    'index.json v2 names have no ABI suffix');
like(slurp("$M/releases/1.2.3/packages/testarch/base/Packages") // '',
    qr/^Package: libubox20230523\n(?:.*\n)*?ABIVersion: 20230523$/m,
    'Packages keeps the ABI name and ABIVersion');
unlike(slurp("$M/releases/1.2.3/packages/testarch/base/Packages") // '',
    qr/^Standin-/m, 'no private fields in the mirror');
like(slurp("$M/releases/1.2.3/packages/testarch/feeds.conf") // '',
    qr/^src-git packages https:/m, 'feeds.conf');

# The package files: every stanza's Filename is in the feed directory with
# its Size and SHA256sum, Packages.gz is Packages, the ImageBuilder's
# embedded copy agrees, and the control read out of a file is the stanza.
my $bdir = "$M/releases/1.2.3/packages/testarch/base";
my $btext = slurp("$bdir/Packages") // '';
my @stanzas = grep { /^Package:/ } split /

/, $btext;
my @bad = grep {
	my ($f) = /^Filename: (.*)$/m;
	my ($sz) = /^Size: (\d+)$/m;
	my ($sum) = /^SHA256sum: ([0-9a-f]{64})$/m;
	my $data = defined $f ? slurp("$bdir/$f") : undef;
	!defined $data || !defined $sz || length($data) != $sz ||
	    !defined $sum || sha256_hex($data) ne $sum;
} @stanzas;
ok(@stanzas > 10 && !@bad, 'each mirror package file matches its stanza')
    or diag("bad: @bad[0 .. ($#bad > 2 ? 2 : $#bad)]");
my $gz = slurp("$bdir/Packages.gz");
my $gunz;
IO::Uncompress::Gunzip::gunzip(\$gz => \$gunz) if defined $gz;
is($gunz, $btext, 'Packages.gz is Packages');
my $emb = slurp("$TMP/ib-m/1.2.3/testtarget/testsubtarget/.standin/feeds/"
    . 'base/Packages') // '';
my %digest = map { my ($n) = /^Package: (\S+)$/m;
    my ($d) = /^(SHA256sum: \S+)$/m; defined $n ? ($n => $d) : () }
    split /\n\n/, $emb;
is(join(' ', map { my ($n) = /^Package: (\S+)$/m; $digest{$n} // 'none' }
    @stanzas),
    join(' ', map { /^(SHA256sum: \S+)$/m } @stanzas),
    'the ImageBuilder embeds the same digests');
my ($busybox) = grep { /^Package: busybox$/m } @stanzas;
my ($bbfile) = ($busybox // '') =~ /^Filename: (.*)$/m;
my $btar = Archive::Tar->new("$bdir/" . ($bbfile // 'none'));
my $ctlgz = $btar ? $btar->get_content('./control.tar.gz') : undef;
my $ctlraw;
IO::Uncompress::Gunzip::gunzip(\$ctlgz => \$ctlraw) if defined $ctlgz;
my $ctltar = defined $ctlraw ? do {
	open(my $cf, '<', \$ctlraw) or die;
	Archive::Tar->new($cf);
} : undef;
like($ctltar ? $ctltar->get_content('./control') : '',
    qr/^Package: busybox\nVersion: 1\.31\.1-1\n/, 'an .ipk holds its control');
ok(-f "$M/snapshots/packages/mips_24kc/base/packages.adb",
    'apk feeds have packages.adb');

my $sp = eval { decode_json(slurp(
    "$M/snapshots/targets/ath79/generic/profiles.json")) } // {};
my $lk = $sp->{linux_kernel} // {};
my $kd = "$M/snapshots/targets/ath79/generic/kmods/"
    . join('-', map { $_ // '' } @$lk{qw(version release vermagic)});
$idx = eval { decode_json(slurp("$kd/index.json")) } // {};
ok($idx->{packages}{'kmod-usb2'}, 'snapshot kmods index from linux_kernel');
like((grep { /-ath79-generic-8dev_carambola2-squashfs-sysupgrade/ }
    map { $_->{name} } @{$sp->{profiles}{'8dev_carambola2'}{images} // []})[0]
    // '', qr/^openwrt-ath79-generic-/, 'snapshot names have no version');

($rc, $out, $err) = run_in($TMP, $^X, $MK, '--ib-root', "$TMP/ib-m",
    '--only', '1.2.3/testtarget/testsubtarget');
is($rc, 0, 're-running replaces the ImageBuilder');
ok(-f "$TMP/ib-m/1.2.3/testtarget/testsubtarget/.targetinfo",
    'and it is still there');

done_testing();
