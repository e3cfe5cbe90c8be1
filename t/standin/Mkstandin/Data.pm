#
# Mkstandin::Data: what mkstandin generates: the targets and
# versions of the stand-ins, and the package universe they share (names,
# dependencies, ABI versions, services, feeds).
#
package Mkstandin::Data;

use v5.36;

use Exporter qw(import);

our @EXPORT = qw(%TARGETS %VERSIONS @FIXTURE_DEFAULTS @EXTRAS $DEPS $ABI
    %SERVICES %FILES %ARCH_ALL %FEED_OF);

# Per target: CPU family, names, kernel, image layout.
our %TARGETS = (
	'ath79/generic' => { arch => 'mips', name => 'Atheros ATH79',
	    subname => 'Generic', flash => 1 },
	'x86/64' => { arch => 'x86_64', name => 'x86', subname => 'x86_64',
	    partitioned => 1, ext4 => 1, gzip => 1 },
	'ramips/mt7621' => { arch => 'mipsel',
	    name => 'MediaTek Ralink MIPS', subname => 'MT7621 based boards',
	    flash => 1 },
	'mediatek/filogic' => { arch => 'aarch64',
	    name => 'MediaTek Ralink ARM',
	    subname => 'Filogic 8x0 (MT798x)', partitioned => 1, ext4 => 1 },
	'testtarget/testsubtarget' => { arch => 'mips', name => 'Test target',
	    subname => 'Test subtarget', partitioned => 1, ext4 => 1 },
);

# Per version: revision, kernel, package flavour, where the data comes from.
our %VERSIONS = (
	'23.05.4' => { flavour => 'opkg', linux => '5.15.162', krel => '1',
	    style => 'opkg', libc => '1.2.4-4', busybox => '1.36.1-1',
	    targets => [ 'ath79/generic', 'x86/64', 'ramips/mt7621',
	    'mediatek/filogic' ] },
	'1.2.3' => { flavour => 'opkg', linux => '4.14.169', krel => '1',
	    style => 'opkg', libc => '1.1.24-2', busybox => '1.31.1-1',
	    revision => 'r12647-cb44ab4f5d', sde => 1612136917,
	    targets => [ 'testtarget/testsubtarget' ] },
	'SNAPSHOT' => { flavour => 'apk', linux => '6.6.74', krel => '1',
	    style => 'apk', libc => '1.2.5-r4', busybox => '1.37.0-r4',
	    revision => 'r28000-0123456789', sde => 1738368000,
	    from => '23.05.4', targets => [ 'ath79/generic', 'x86/64' ] },
);

# The defaults of the 1.2.3 fixture, in the order its `make info` shows.
our @FIXTURE_DEFAULTS = qw(base-files libc libgcc busybox dropbear mtd uci
    opkg netifd fstools uclient-fetch logd urandom-seed urngd
    kmod-gpio-button-hotplug kmod-ath9k wpad-basic uboot-envtools dnsmasq
    iptables ip6tables ppp ppp-mod-pppoe firewall odhcpd-ipv6only odhcp6c
    kmod-ipt-offload);

# Packages every stand-in offers besides the defaults and device packages.
our @EXTRAS = qw(luci luci-app-attendedsysupgrade luci-i18n-base-en owut auc
    test1 test2 aaa zzz dnsmasq-full libubox20230523 conflict-a conflict-b
    needs-missing huge-package babeld baresip);

# Dependencies (name: depends...; indented lines continue an entry). Names
# not listed depend on libc, or on the kernel for kmod-*; firmware depends
# on nothing.
our $DEPS = <<'EOF';
base-files: libc netifd procd jsonfilter usign openwrt-keyring fstools fwtool
busybox: libc
ca-bundle:
dnsmasq: libc libubus20230605
dnsmasq-full: libc libubus20230605 libnettle8
libnettle8: libc libgmp10
libgmp10: libc
dropbear: libc
firewall4: libc kmod-nft-core kmod-nft-fib kmod-nft-offload kmod-nft-nat
    nftables-json ucode ucode-mod-fs ucode-mod-ubus ucode-mod-uci
firewall: libc libubox20230523 libubus20230605 libuci20130104 iptables
fstools: libc ubox libubox20230523 libuci20130104 libblobmsg-json20230523
    libjson-c5
jsonfilter: libc libubox20230523 libjson-c5
kmod-ath9k: kernel kmod-ath9k-common
kmod-ath9k-common: kernel kmod-ath
kmod-ath: kernel kmod-mac80211
kmod-mac80211: kernel kmod-cfg80211 hostapd-common
kmod-cfg80211: kernel wireless-regdb
kmod-nft-offload: kernel kmod-nf-flow kmod-nft-nat
kmod-nft-nat: kernel kmod-nft-core kmod-nf-nat
kmod-nft-core: kernel kmod-nf-reject kmod-nf-conntrack
kmod-nft-fib: kernel kmod-nft-core
kmod-nf-flow: kernel kmod-nf-conntrack
kmod-nf-nat: kernel kmod-nf-conntrack
kmod-ipt-offload: kernel kmod-ipt-core kmod-nf-flow
kmod-usb2: kernel kmod-usb-ehci
kmod-usb-ehci: kernel kmod-usb-core
kmod-usb-chipidea2: kernel kmod-usb-chipidea kmod-usb2
kmod-usb-chipidea: kernel kmod-usb-core
kmod-usb-storage: kernel kmod-scsi-core kmod-usb-core
kmod-ppp: kernel kmod-lib-crc-ccitt kmod-slhc
kmod-pppoe: kernel kmod-ppp kmod-pppox
kmod-pppox: kernel kmod-ppp
libgcc1: libc
libustream-mbedtls20201210: libc libubox20230523 libmbedtls12
libmbedtls12: libc
logd: libc libubox20230523 libubus20230605 libblobmsg-json20230523
mtd: libc libubox20230523
netifd: libc libuci20130104 libnl-tiny1 libubus20230605 ubus jshn
    libubox20230523
nftables-json: libc kmod-nft-core libnftnl11
libnftnl11: libc libmnl0
libmnl0: libc
iptables: libc kmod-ipt-core
ip6tables: libc kmod-ip6tables
odhcp6c: libc libubox20230523
odhcpd-ipv6only: libc libubox20230523 libuci20130104 libubus20230605 libnl-tiny1
opkg: libc libubox20230523
apk-mbedtls: libc libmbedtls12
ppp: libc kmod-ppp
ppp-mod-pppoe: libc ppp kmod-pppoe
procd: libc ubusd ubus libjson-script20230523 ubox libubox20230523
    libubus20230605 libblobmsg-json20230523 libjson-c5
procd-seccomp: libc procd libubox20230523 libblobmsg-json20230523
procd-ujail: libc procd libubox20230523 libubus20230605 libuci20130104
    libblobmsg-json20230523
swconfig: libc libuci20130104 libnl-tiny1
uboot-envtools: libc libuci20130104
uci: libc libuci20130104
uclient-fetch: libc libuclient20201210
libuclient20201210: libc libubox20230523
urandom-seed:
urngd: libc libubox20230523
wpad-basic-mbedtls: libc hostapd-common libubus20230605 libubox20230523
    libmbedtls12 libnl-tiny1
wpad-basic: libc hostapd-common libubus20230605 libubox20230523
hostapd-common: libc
wireless-regdb:
ubus: libc libubus20230605 libblobmsg-json20230523 ubusd
ubusd: libc libubox20230523 libblobmsg-json20230523
ubox: libc libubox20230523 ubusd ubus libubus20230605 libuci20130104
usign: libc libubox20230523
openwrt-keyring:
fwtool: libc
jshn: libc libjson-c5 libubox20230523 libblobmsg-json20230523
libjson-script20230523: libc libubox20230523
libubox20230523: libc
libubus20230605: libc libubox20230523
libuci20130104: libc libubox20230523
libblobmsg-json20230523: libc libjson-c5 libubox20230523
libjson-c5: libc
libnl-tiny1: libc
ucode: libc libucode20230711
libucode20230711: libc libjson-c5
ucode-mod-fs: libc libucode20230711
ucode-mod-ubus: libc libucode20230711 libubus20230605
ucode-mod-uci: libc libucode20230711 libuci20130104
luci: libc luci-base luci-theme-bootstrap luci-mod-admin-full
    luci-app-firewall uhttpd rpcd
luci-base: libc rpcd libubox20230523 libubus20230605 libuci20130104
luci-theme-bootstrap: luci-base
luci-mod-admin-full: luci-base
luci-app-firewall: luci-base
luci-app-attendedsysupgrade: luci-base attendedsysupgrade-common rpcd
luci-i18n-base-en: luci-base
uhttpd: libc libubox20230523 libubus20230605
rpcd: libc libubus20230605 libubox20230523 libuci20130104
    libblobmsg-json20230523 libjson-c5
attendedsysupgrade-common:
owut: libc ucode ucode-mod-fs ucode-mod-ubus ucode-mod-uci
    attendedsysupgrade-common
auc: libc libubox20230523 libuci20130104 libubus20230605 libuclient20201210
    attendedsysupgrade-common
test1: libc
test2: libc
aaa: libc
zzz: libc
conflict-a: libc
conflict-b: libc
needs-missing: libc libdoesnotexist
huge-package: libc
babeld: libc libubox20230523 libubus20230605
baresip: libc libmbedtls12
EOF

# ABI-versioned libraries: package, plain name, ABI version.
our $ABI = <<'EOF';
libubox20230523 libubox 20230523
libubus20230605 libubus 20230605
libuci20130104 libuci 20130104
libblobmsg-json20230523 libblobmsg-json 20230523
libjson-script20230523 libjson-script 20230523
libjson-c5 libjson-c 5
libgcc1 libgcc 1
libuclient20201210 libuclient 20201210
libustream-mbedtls20201210 libustream-mbedtls 20201210
libmbedtls12 libmbedtls 12
libucode20230711 libucode 20230711
libnl-tiny1 libnl-tiny 1
libnftnl11 libnftnl 11
libmnl0 libmnl 0
libnettle8 libnettle 8
libgmp10 libgmp 10
EOF

# Init scripts per package (DISABLED_SERVICES acts on them).
our %SERVICES = ('base-files' => 'boot done gpio_switch led sysctl '
    . 'sysfixtime system umount', dropbear => 'dropbear',
    dnsmasq => 'dnsmasq', 'dnsmasq-full' => 'dnsmasq',
    firewall4 => 'firewall', firewall => 'firewall', logd => 'log',
    netifd => 'network', 'odhcpd-ipv6only' => 'odhcpd',
    'urandom-seed' => 'urandom_seed', urngd => 'urngd', uhttpd => 'uhttpd',
    rpcd => 'rpcd', 'wpad-basic-mbedtls' => 'wpad', 'wpad-basic' => 'wpad',
    babeld => 'babeld');

# Files that two packages both install (opkg's data file clash).
our %FILES = (dnsmasq => '/etc/config/dhcp /usr/sbin/dnsmasq',
    'dnsmasq-full' => '/etc/config/dhcp /usr/sbin/dnsmasq');

# Packages whose Architecture is "all".
our %ARCH_ALL = map { $_ => 1 } qw(ca-bundle openwrt-keyring wireless-regdb
    attendedsysupgrade-common owut luci-i18n-base-en luci-theme-bootstrap
    luci-app-attendedsysupgrade);

# Packages of the "packages" feed; the routing and telephony feeds.
our %FEED_OF = ((map { $_ => 'packages' } qw(owut auc test1 test2 aaa zzz
    conflict-a conflict-b needs-missing huge-package dnsmasq-full
    attendedsysupgrade-common libnettle8 libgmp10 baresip)),
    babeld => 'routing', baresip => 'telephony');

1;
