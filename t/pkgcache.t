#!/usr/bin/perl
#
# pkgcache.t: package_cache_url with the shipped conf/nginx-package-cache.conf.
# nginx runs that server block in front of the stand-in mirror and asud's
# builds take their feeds from it. The first build fetches its packages
# from the mirror through nginx; the same selection built again with an
# empty dl/ fetches no package file from the mirror (the indexes are only
# revalidated); a new version of a package in the mirror's index is
# fetched by the next build. asud refuses a package_cache_url that is not
# http:// or https://, or that has spaces or quotes.
#
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Path qw(remove_tree);
use IO::Compress::Gzip qw(gzip);
use Time::HiRes qw(sleep time);
use AsudTest;
use NginxTest;
use lib AsudTest::srcdir() . '/t/standin';
use Mkstandin::Pkgfile;

plan skip_all => 'nginx is not installed' unless NginxTest::available();

my $REL = '/releases/1.2.3';
my $FEED = "$REL/packages/testarch/packages";
my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);

# Reads a file, or returns undef.
sub slurp {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return undef;
	local $/;
	return scalar <$fh>;
}

# Writes a file.
sub spew {
	my ($path, $data) = @_;
	open(my $fh, '>:raw', $path) or die "$path: $!";
	print $fh $data;
	close($fh) or die "$path: $!";
}

# --- the configuration checks ----------------------------------------------

my $t = AsudTest->new(upstream => 'http');
my $bad = $t->dir . '/bad.conf';
for my $case (['file:///srv/mirror', qr/package_cache_url must start with/],
    ['ftp://cache', qr/package_cache_url must start with/],
    ['http://cache/a b', qr/package_cache_url has spaces or quotes/],
    ["http://cache/\"x", qr/package_cache_url has spaces or quotes/]) {
	spew($bad, "package_cache_url = $case->[0]\n");
	my $out = `"${\ AsudTest::bin()}" -n -c "$bad" 2>&1`;
	isnt($? >> 8, 0, "package_cache_url = $case->[0] is refused");
	like($out, $case->[1], 'with the reason');
}
spew($bad, "package_cache_url = https://cache.example.org/openwrt/\n");
my $out = `"${\ AsudTest::bin()}" -n -c "$bad" 2>&1`;
is($? >> 8, 0, 'an https:// package_cache_url is accepted') or diag($out);

# --- nginx with the shipped server block -----------------------------------

my $m = $t->mirror;
my $dir = $t->dir . '/nginx';
my $site = slurp(AsudTest::srcdir() . '/conf/nginx-package-cache.conf')
    // die "nginx-package-cache.conf: $!";
my %subst = (
	'server downloads.openwrt.org:443;' => 'server 127.0.0.1:'
	    . $m->port . ';',
	'proxy_pass https://openwrt_downloads;' =>
	    'proxy_pass http://openwrt_downloads;',
	'/var/cache/nginx/asud-packages' => "$dir/cache",
);
for my $from (sort keys %subst) {
	my $n = () = $site =~ /\Q$from\E/g;
	ok($n > 0, "the server block has '$from' to edit");
	$site =~ s/\Q$from\E/$subst{$from}/g;
}

mkdir $dir;
mkdir "$dir/cache";
my $ng = NginxTest->new(dir => $dir, site => sub {
	my ($p) = @_;
	(my $text = $site) =~ s/^(\s*)listen 127\.0\.0\.1:8080;/$1listen 127.0.0.1:$p;/m
	    or die 'no listen line';
	return $text;
}, http => "log_format c '\$uri \$upstream_cache_status \$status';\n"
    . "access_log $dir/access.log c;");
is($ng->check, '', 'nginx accepts the server block');
my $up = $ng->start;
my $port = $ng->port;
ok($up, 'nginx listens') or BAIL_OUT('no nginx');

# The package files asked of the mirror since mark: path => [statuses].
sub mirror_packages {
	my ($mark) = @_;
	my %p;
	push @{$p{$_->{path}}}, $_->{status}
	    for grep { $_->{path} =~ /\.ipk$/ } $m->requests(since => $mark);
	return \%p;
}

# nginx's access log lines from line `from` on: [uri, cache status, code].
sub nginx_log {
	my ($from) = @_;
	my @l = map { [ split ' ' ] } split /\n/, slurp("$dir/access.log") // '';
	return @l[$from .. $#l];
}

# Package name => mirror path of its file, from the mirror's indexes.
sub mirror_files {
	my %f;
	for my $d (glob($t->mirror_dir . "$REL/targets/*/*/packages"),
	    glob($t->mirror_dir . "$REL/packages/*/*")) {
		my $text = slurp("$d/Packages") // next;
		(my $rel = $d) =~ s/^\Q${\ $t->mirror_dir}\E//;
		for my $st (split /\n\n/, $text) {
			my ($n) = $st =~ /^Package: (\S+)$/m;
			my ($file) = $st =~ /^Filename: (\S+)$/m;
			my ($abi) = $st =~ /^ABIVersion: (\S+)$/m;
			next unless defined $n && $file;
			$f{$n} = "$rel/$file";
			$f{$n =~ s/\Q$abi\E$//r} = $f{$n} if defined $abi;
		}
	}
	return \%f;
}

# --- builds through the cache ----------------------------------------------

$t->{conf}{package_cache_url} = "http://127.0.0.1:$port/";
$t->start;
my $ib = $t->ib_dir . '/1.2.3/testtarget/testsubtarget';
my $files = mirror_files();

# 1. The first build: each package from the mirror, through nginx.
my $mark = $m->mark;
my $r = $t->build({ %base });
is($r->{status}, 200, 'first build succeeds') or diag($r->{json}{stderr});
my @want = sort map { $files->{$_} // () } keys %{ $r->{json}{manifest} };
ok(@want > 10, 'its packages are files of the mirror');
my $got = mirror_packages($mark);
is_deeply([ sort keys %$got ], \@want,
    'the mirror served each package file it installs');
is_deeply([ grep { "@{$got->{$_}}" ne '200' } sort keys %$got ], [],
    'each once');
my @log = nginx_log(0);
my %miss = map { $_->[0] => 1 } grep { $_->[0] =~ /\.ipk$/ &&
    $_->[1] eq 'MISS' } @log;
is_deeply([ sort keys %miss ], \@want, 'all of them through nginx');
my $via = "http://127.0.0.1:$port$REL/packages/testarch/base/Packages.gz";
like($r->{json}{stderr} // '', qr/^Downloading \Q$via\E$/m,
    'the feed indexes came through nginx too');
my $nlog = @log;

# 2. The same selection (another request hash) with an empty dl/.
remove_tree("$ib/dl");
$mark = $m->mark;
$r = $t->build({ %base, rootfs_size_mb => 200 });
is($r->{status}, 200, 'second build succeeds') or diag($r->{json}{stderr});
is_deeply(mirror_packages($mark), {},
    'it fetched no package file from the mirror');
my @other = grep { $_->{path} !~ /\/(?:Packages(?:\.gz|\.sig)?|[^\/]*\.json)$/
    || !$_->{cond} || $_->{status} ne '304' } $m->requests(since => $mark);
is_deeply([ map { "$_->{path} $_->{status}" } @other ], [],
    'the mirror only revalidated indexes');
my %hit = map { $_->[0] => 1 } grep { $_->[0] =~ /\.ipk$/ &&
    $_->[1] eq 'HIT' } nginx_log($nlog);
is_deeply([ sort keys %hit ], \@want, 'nginx served them from its cache');
ok(-s "$ib/dl/" . ($files->{test1} =~ s{.*/}{}r), 'dl/ has them again');
$nlog = () = nginx_log(0);

# 3. A new version of test1 in the mirror's index is fetched.
my $pdir = $t->mirror_dir . $FEED;
my $index = slurp("$pdir/Packages");
my %p = (Package => 'test1', Version => '1.1-1', Depends => 'libc',
    Architecture => 'testarch', 'Installed-Size' => 9000,
    Description => ' Stand-in package test1, updated');
my $ipk = package_file(\%p, 1612136917);
my $name = 'test1_1.1-1_testarch.ipk';
spew("$pdir/$name", $ipk);
my $stanza = "Package: test1\nVersion: 1.1-1\nDepends: libc\n"
    . "Architecture: testarch\nInstalled-Size: 9000\nFilename: $name\n"
    . 'Size: ' . length($ipk) . "\nSHA256sum: " . sha256_hex($ipk)
    . "\nDescription:  Stand-in package test1, updated";
my $n = $index =~ s/^Package: test1\n.*?(?=\n\n|\z)/$stanza/ms;
is($n, 1, 'test1 is replaced in the index');
spew("$pdir/Packages", $index);
gzip(\$index => "$pdir/Packages.gz", Minimal => 1) or die 'gzip';
# The cached indexes are valid for a second (proxy_cache_valid 200 1s).
sleep 1.5;
$mark = $m->mark;
$r = $t->build({ %base, rootfs_size_mb => 300 });
is($r->{status}, 200, 'third build succeeds') or diag($r->{json}{stderr});
is($r->{json}{manifest}{test1}, '1.1-1', 'it installed the new test1');
is($m->count("$FEED/Packages.gz", since => $mark, status => 200), 1,
    'nginx fetched the changed index whole');
is_deeply(mirror_packages($mark), { "$FEED/$name" => ['200'] },
    'and the new package file, and no other, from the mirror');
is($t->stop, 0, 'asud stops cleanly');

$ng->stop;
done_testing();
