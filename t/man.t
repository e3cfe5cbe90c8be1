#!/usr/bin/perl
#
# man.t: the manual pages. mandoc finds nothing to warn about in them;
# asud.conf(5) describes every key server/conf.c knows, and no other, as
# the README's configuration table does; asud(8) names every option of
# asud's usage.
#
use strict;
use warnings;
use Test::More;

my $TOP = $ENV{ASUD_TOP_SRCDIR} // '.';
my $ASUD = $ENV{ASUD_BIN} // './asud';
my @PAGES = map { "$TOP/$_" } ('man/asud.8', 'man/asud.conf.5');

# The output and status of a command, stderr included.
sub run {
	my $out = `@_ 2>&1`;
	return ($out, $? >> 8);
}

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	return scalar <$fh>;
}

ok(grep({ -x "$_/mandoc" } split /:/, $ENV{PATH} // ''),
    'mandoc is installed')
    or diag('./bootstrap installs mandoc');
for my $page (@PAGES) {
	ok(-s $page, "$page is there");
	my ($out, $rc) = run("mandoc -T lint -W warning $page");
	ok($rc == 0 && $out eq '', "$page: mandoc -T lint finds nothing")
	    or diag($out);
}

my %conf = map { $_ => 1 } slurp("$TOP/server/conf.c") =~
    /^\s*CONF_[A-Z]+\(\s*([a-z_0-9]+)/mg;
my $man = slurp("$TOP/man/asud.conf.5");
my %man = map { $_ => 1 } $man =~ /^\.It Cm ([a-z_0-9]+)$/mg;
my $readme = slurp("$TOP/README.md");
my ($table) = $readme =~ /^\| key \| default \| meaning \|\n(.*?)\n\n/ms;
my %readme = map { $_ => 1 } ($table // '') =~ /^\| `([a-z_0-9]+)` \|/mg;
cmp_ok(scalar keys %conf, '>', 30, 'server/conf.c has its keys');
is_deeply([sort grep { !$man{$_} } keys %conf], [],
    'asud.conf(5) describes every key');
is_deeply([sort grep { !$conf{$_} } keys %man], [],
    'asud.conf(5) describes no key asud does not know');
is_deeply([sort grep { !$readme{$_} } keys %conf], [],
    'the README\'s table has every key');
is_deeply([sort grep { !$conf{$_} } keys %readme], [],
    'and no key asud does not know');

my ($usage) = run("$ASUD -h");
my %opts = map { $_ => 1 } $usage =~ /^\s+(-[a-z]|--[a-z]+)\s/mg;
my $page8 = slurp("$TOP/man/asud.8");
my %man8 = map { ("-$_" => 1) } $page8 =~ /^\.(?:It|Op) Fl ([a-z-]+)/mg;
cmp_ok(scalar keys %opts, '>', 4, 'asud -h lists its options');
is_deeply([sort grep { !$man8{$_} } keys %opts], [],
    'asud(8) names every option');

done_testing;
