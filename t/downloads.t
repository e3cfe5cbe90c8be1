#!/usr/bin/perl
#
# downloads.t: builds fetch the ImageBuilder's official feeds from the
# configured upstream mirror. asud points the feed lines at upstream_url
# for each build, the stand-in fetches the indexes and then each package
# file it does not have in dl/ with the right digest: a first build
# fetches each package it installs once, a second build of another
# selection only what it did not have, and a damaged file in dl/ is
# fetched again. The ImageBuilder's own repositories.conf is put back
# after each build. A file:// mirror inside the hidden state directory
# stays readable in the sandbox. The apk flavour does the same.
#
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use AsudTest;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');
my $REL = '/releases/1.2.3';

# Reads a file, or returns undef.
sub slurp {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return undef;
	local $/;
	return scalar <$fh>;
}

# Package name => [mirror path of its file, SHA256sum], from the mirror's
# indexes of the 1.2.3 feeds.
sub mirror_files {
	my ($t) = @_;
	my %f;
	for my $dir (glob($t->mirror_dir . "$REL/targets/*/*/packages"),
	    glob($t->mirror_dir . "$REL/packages/*/*")) {
		my $text = slurp("$dir/Packages") // next;
		(my $rel = $dir) =~ s/^\Q${\ $t->mirror_dir}\E//;
		for my $st (split /\n\n/, $text) {
			my ($n) = $st =~ /^Package: (\S+)$/m;
			my ($file) = $st =~ /^Filename: (\S+)$/m;
			my ($sum) = $st =~ /^SHA256sum: (\S+)$/m;
			my ($abi) = $st =~ /^ABIVersion: (\S+)$/m;
			next unless defined $n && $file;
			$f{$n} = [ "$rel/$file", $sum ];
			# Manifests name them without (STRIP_ABI=1).
			$f{$n =~ s/\Q$abi\E$//r} = $f{$n} if defined $abi;
		}
	}
	return \%f;
}

# The package files a build fetched from the mirror since mark: path =>
# how many times.
sub fetched {
	my ($m, $mark) = @_;
	my %n;
	$n{$_->{path}}++ for grep { $_->{path} =~ /\.ipk$/ }
	    $m->requests(since => $mark);
	return \%n;
}

# The mirror paths of the packages of a manifest (kernel and libc come
# from the ImageBuilder itself).
sub wanted {
	my ($files, $manifest, @minus) = @_;
	my %skip = map { $_ => 1 } @minus;
	return [ sort grep { !$skip{$_} } map { $files->{$_}[0] }
	    grep { $files->{$_} } keys %$manifest ];
}

my $t = AsudTest->new(upstream => 'http');
$t->start;
my $m = $t->mirror;
my $ib = $t->ib_dir . '/1.2.3/testtarget/testsubtarget';
my $conf = slurp("$ib/repositories.conf");
my $files = mirror_files($t);
ok(keys %$files > 20, 'the mirror indexes list package files');

# 1. The first build fetches each package it installs, once.
my $mark = $m->mark;
my $r = $t->build({ %base, packages => ['test1'] });
is($r->{status}, 200, 'first build succeeds');
my $m1 = $r->{json}{manifest} // {};
my $want1 = wanted($files, $m1);
my $got = fetched($m, $mark);
ok(@$want1 > 10, 'its manifest names packages of the mirror');
is_deeply([ sort keys %$got ], $want1,
    'it fetched the file of each package it installs');
is_deeply([ grep { $got->{$_} != 1 } sort keys %$got ], [],
    'each of them once (make manifest and make image share dl/)');
ok($m->count("$REL/packages/testarch/base/Packages.gz", since => $mark) > 0,
    'the feed indexes came from the mirror');
is(slurp("$ib/repositories.conf"), $conf,
    "the ImageBuilder's repositories.conf is put back");
ok(!-e "$ib/.asud-pristine", 'and no saved copy is left');
my $busybox = $files->{busybox}[0] =~ s{.*/}{}r;
is(sha256_hex(slurp("$ib/dl/$busybox") // ''), $files->{busybox}[1],
    'the package files are in dl/ with their digests');

# 2. Another selection fetches only what the first did not have.
$mark = $m->mark;
$r = $t->build({ %base, packages => ['test1', 'test2', 'luci'] });
is($r->{status}, 200, 'second build succeeds');
my $m2 = $r->{json}{manifest} // {};
my $want2 = wanted($files, $m2, @$want1);
ok(@$want2 > 0, 'it needs packages the first did not');
is_deeply([ sort keys %{ fetched($m, $mark) } ], $want2,
    'it fetched only those');

# 3. A damaged file in dl/ is fetched again.
open(my $fh, '>', "$ib/dl/$busybox") or die "$busybox: $!";
print $fh "damaged\n";
close($fh);
$mark = $m->mark;
$r = $t->build({ %base, packages => ['test2'] });
is($r->{status}, 200, 'a build with a damaged package in dl/ succeeds');
is_deeply([ sort keys %{ fetched($m, $mark) } ], [ $files->{busybox}[0] ],
    'it fetched the damaged one again, and only it');
is(sha256_hex(slurp("$ib/dl/$busybox") // ''), $files->{busybox}[1],
    'dl/ has the right file again');

# 4. A package file the mirror lost fails the build as opkg does.
my $luci = $files->{luci}[0];
rename($t->mirror_dir . $luci, $t->mirror_dir . "$luci.gone") or die;
unlink("$ib/dl/" . ($luci =~ s{.*/}{}r));
$r = $t->build({ %base, packages => ['luci', 'test2'] });
rename($t->mirror_dir . "$luci.gone", $t->mirror_dir . $luci) or die;
is($r->{status}, 500, 'a package missing from the mirror fails the build');
like($r->{json}{stderr} // '', qr/^\ \*\ opkg_download:\ Failed\ to\ download
    \ http:\/\/127\.0\.0\.1:\d+\Q$luci\E,/mx, 'with the download failure');
is($t->stop, 0, 'asud stops cleanly');

# 5. A file:// mirror in the state directory, which the sandbox hides.
my $f = AsudTest->new(upstream => 'file');
$f->{conf}{state_dir} = $f->dir;
$f->start;
my $fib = $f->ib_dir . '/1.2.3/testtarget/testsubtarget';
like($f->log_text, qr/builds run in a sandbox/, 'builds are sandboxed');
$r = $f->build({ %base, packages => ['test1'] });
is($r->{status}, 200, 'a build from a hidden file:// mirror succeeds')
    or diag($r->{json}{stderr});
is(sha256_hex(slurp("$fib/dl/$busybox") // ''), $files->{busybox}[1],
    'its package files were copied from the mirror');
is($f->stop, 0, 'asud stops cleanly');

# 6. apk: the same with packages.adb and .apk files.
my $a = AsudTest->new(upstream => 'http', only => ['SNAPSHOT/x86/64']);
$a->start;
my $am = $a->mirror;
my $aib = $a->ib_dir . '/SNAPSHOT/x86/64';
my $arepos = slurp("$aib/repositories");
$mark = $am->mark;
$r = $a->build({ version => 'SNAPSHOT', target => 'x86/64',
    profile => 'generic', packages => ['luci'] });
is($r->{status}, 200, 'apk: the build succeeds') or diag($r->{json}{stderr});
my @apk = grep { $_->{path} =~ /\.apk$/ } $am->requests(since => $mark);
my %once;
$once{$_->{path}}++ for @apk;
ok(@apk > 10, 'apk: it fetched package files from the mirror');
is_deeply([ grep { $once{$_} != 1 } sort keys %once ], [],
    'apk: each of them once');
ok($am->count('/snapshots/packages/x86_64/base/packages.adb',
    since => $mark) > 0, 'apk: the indexes are packages.adb');
my ($one) = sort keys %once;
ok(defined $one && -s "$aib/dl/" . ($one =~ s{.*/}{}r),
    'apk: the files are in dl/');
is(slurp("$aib/repositories"), $arepos, 'apk: repositories is put back');
is($a->stop, 0, 'asud stops cleanly');

done_testing();
