# build_wrapper: every ImageBuilder command runs through the configured
# argument vector (here conf/build-wrapper.sh, the documented example).
use strict;
use warnings;
use Test::More;
use AsudTest;

my $t = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget']);
my $log = $t->dir . '/wrapper.log';
$t->{conf}{build_wrapper} = AsudTest::srcdir() . '/conf/build-wrapper.sh';
$t->{env}{ASUD_WRAPPER_LOG} = $log;
$t->start;
my $r = $t->build({ version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1'] });
is($r->{status}, 200, 'a build through the wrapper succeeds');
open(my $fh, '<', $log) or die "no wrapper log: $!";
my @lines = <$fh>;
close($fh);
is(scalar @lines, 3, 'three ImageBuilder commands went through it');
like($lines[0], qr/^make info/, 'make info');
like($lines[1], qr/^make manifest PROFILE=testprofile /, 'make manifest');
like($lines[2], qr/^make image PROFILE=testprofile PACKAGES=test1 /,
    'make image');
is($r->{json}{build_cmd}[0], 'make', 'build_cmd shows the make command');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
