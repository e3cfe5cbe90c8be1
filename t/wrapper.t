# build_wrapper: every ImageBuilder command runs through the configured
# argument vector (here conf/build-wrapper.sh, the documented example).
# The wrapper comes first: with the sandbox on it runs "bwrap ... -- make
# ...", with it off "make ..." itself.
use strict;
use warnings;
use Test::More;
use AsudTest;

# One build through the wrapper; returns the logged lines and the answer.
sub wrapped_build {
	my (%conf) = @_;
	my $t = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget']);
	my $log = $t->dir . '/wrapper.log';
	$t->{conf}{build_wrapper} = AsudTest::srcdir()
	    . '/conf/build-wrapper.sh';
	$t->{conf}{$_} = $conf{$_} for keys %conf;
	$t->{env}{ASUD_WRAPPER_LOG} = $log;
	$t->start;
	my $r = $t->build({ version => '1.2.3',
	    target => 'testtarget/testsubtarget', profile => 'testprofile',
	    packages => ['test1'] });
	my @lines;
	if (open(my $fh, '<', $log)) {
		@lines = <$fh>;
		close($fh);
	}
	is($t->stop, 0, 'clean stop');
	$t->check_log_clean;
	return ($r, @lines);
}

for my $mode ('on', 'off') {
	my ($r, @lines) = wrapped_build(sandbox => $mode);
	my $pre = $mode eq 'on' ? qr/^\S*bwrap .* -- / : qr/^/;
	is($r->{status}, 200, "sandbox $mode: a build through the wrapper "
	    . 'succeeds');
	is(scalar @lines, 3, "sandbox $mode: three ImageBuilder commands "
	    . 'went through it');
	like($lines[0] // '', qr/${pre}make info$/, "sandbox $mode: make info");
	like($lines[1] // '', qr/${pre}make manifest PROFILE=testprofile /,
	    "sandbox $mode: make manifest");
	like($lines[2] // '',
	    qr/${pre}make image PROFILE=testprofile PACKAGES=test1 /,
	    "sandbox $mode: make image");
	is($r->{json}{build_cmd}[0], 'make',
	    "sandbox $mode: build_cmd shows the make command");
}
done_testing();
