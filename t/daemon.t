# The daemon as an operator meets it: configuration errors name the file
# and line, -l overrides the listen address, the demo mode serves the
# stand-in, and SIGINT stops it cleanly.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use AsudTest;

my $dir = tempdir('asud-daemon-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Runs asud with a configuration text; returns exit code and stderr.
sub run_conf {
	my ($text) = @_;
	my $file = "$dir/bad.conf";
	open(my $fh, '>', $file) or die;
	print $fh $text;
	close($fh);
	my $out = `"${\ AsudTest::bin()}" -c "$file" 2>&1`;
	return ($? >> 8, $out);
}

my ($rc, $out) = run_conf("# comment\nlisten = 127.0.0.1:0\nbogus = 1\n");
isnt($rc, 0, 'an unknown key stops asud');
like($out, qr/bad\.conf:3: unknown key 'bogus'/, 'and names FILE:LINE');
($rc, $out) = run_conf("build_jobs = 0\n");
isnt($rc, 0, 'a bad value stops asud');
like($out, qr/bad\.conf:1: .*out of range/, 'with the reason');
($rc, $out) = run_conf("allow_defaults = maybe\n");
like($out, qr/bad\.conf:1: 'maybe' is not true or false/, 'bad boolean');
($rc, $out) = run_conf("job_timeout = 10x\n");
like($out, qr/bad\.conf:1: .*duration/, 'bad duration');
($rc, $out) = run_conf("just words\n");
like($out, qr/bad\.conf:1: expected 'key = value'/, 'not key = value');

# -n checks a file and exits: the shipped sample passes, a bad one does not.
my $sample = AsudTest::srcdir() . '/conf/asud.conf';
$out = `"${\ AsudTest::bin()}" -n -c "$sample" 2>&1`;
is($? >> 8, 0, '-n: the shipped asud.conf is valid') or diag($out);
like($out, qr/configuration OK/, '-n: says so');
$out = `"${\ AsudTest::bin()}" -n -c "$dir/bad.conf" 2>&1`;
isnt($? >> 8, 0, '-n: a bad file fails');
like($out, qr/bad\.conf:1: expected 'key = value'/, '-n: with FILE:LINE');

# -l overrides the file, port 0 picks a port that is reported.
my $t = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget'],
    conf => { listen => '127.0.0.1:1' });
$t->start(args => ['-l', '127.0.0.1:0']);
ok($t->port > 1, 'listening on the port the kernel chose');
is($t->get('/api/v1/stats')->{status}, 200, 'and answering there');
my $pre = $t->request('OPTIONS', '/api/v1/build', undef,
    { 'Origin' => 'http://router', 'Access-Control-Request-Method' => 'POST',
      'Access-Control-Request-Headers' => 'content-type' });
ok($pre->{status} >= 200 && $pre->{status} < 300, 'preflight answered');
is($pre->{headers}{'access-control-allow-origin'}, '*', 'CORS origin');
my $page = $t->get('/?1700000000000');
is($page->{status}, 200, 'the web page, query string ignored');
like($page->{content}, qr/Attended SysUpgrade/, 'is the asud page');
kill('INT', $t->pid);
my $pid = delete $t->{pid};
waitpid($pid, 0);
is($? >> 8, 0, 'SIGINT stops cleanly');
$t->check_log_clean;

# The demo mode, as the README's quick start runs it.
my $demo = AsudTest->new(no_generate => 1);
$demo->start(cmd => ['--demo', '-d', $demo->dir . '/demo', '-l',
    '127.0.0.1:0']);
my $res = $demo->build({ version => '23.05.4', target => 'ath79/generic',
    profile => 'tplink,archer-c7-v5', packages => ['luci'] });
is($res->{status}, 200, 'the demo builds the README example');
is($res->{json}{id}, 'tplink_archer-c7-v5', 'for the right board');
ok(-d $demo->dir . '/demo/imagebuilders/23.05.4/ath79/generic',
    'the stand-in ImageBuilders are under the demo directory');
is($demo->stop, 0, 'demo stops cleanly');
$demo->check_log_clean;

done_testing();
