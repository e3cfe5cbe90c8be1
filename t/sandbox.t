# Builds leave nothing behind and, sandboxed (the default), write nothing
# outside their directories; where bubblewrap cannot run, asud says so
# and refuses custom repositories unless the sandbox is turned off.
use strict;
use warnings;
use Cwd qw(abs_path);
use Test::More;
use Time::HiRes qw(sleep time);
use AsudTest;

my %REQ = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my $ALLOWED = 'https://repo.example.org/feeds';
my $REFUSED = 'Custom repositories are not accepted: builds on this '
    . 'server cannot run in a sandbox';

# A daemon with these settings and misbehaviours, started.
sub daemon {
	my ($conf, $misbehave) = @_;
	my $t = AsudTest->new(conf => { repository_allow_list => $ALLOWED,
	    %$conf }, env => { STANDIN_MISBEHAVE => $misbehave // '' });
	return $t->start;
}

# The live (not zombie) processes whose argv holds the marker.
sub marked {
	my ($marker) = @_;
	my @found;
	for my $dir (glob('/proc/[0-9]*')) {
		open(my $fh, '<', "$dir/cmdline") or next;
		local $/;
		my $cmd = <$fh> // '';
		close($fh);
		next if index($cmd, $marker) < 0;
		open($fh, '<', "$dir/stat") or next;
		my $stat = <$fh> // '';
		close($fh);
		push @found, $dir =~ s{^/proc/}{}r if $stat !~ /\)\s+Z/;
	}
	return @found;
}

# Waits until no process carries the marker: a kill takes effect when the
# process next runs, so this is a condition, with a generous bound.
sub gone {
	my ($marker) = @_;
	my $deadline = time + 30;
	my @left;
	while ((@left = marked($marker)) && time < $deadline) {
		sleep 0.05;
	}
	kill('KILL', @left) if @left;	# do not leave them to the machine
	return !@left;
}

# --- nothing a build started outlives it ------------------------------------

for my $mode ('on', 'off') {
	my $t = daemon({ sandbox => $mode }, 'background,setsid');
	my $r = $t->build({ %REQ });
	is($r->{status}, 200, "sandbox $mode: the misbehaving build succeeds");
	like($r->{json}{stdout} // '', qr/left process \d+ in the background/,
	    "sandbox $mode: it started a background process");
	like($r->{json}{stdout} // '', qr/left process \d+ in a new session/,
	    "sandbox $mode: it started a process in a new session");
	my $top = $t->ib_dir . '/1.2.3/testtarget/testsubtarget';
	ok(gone("standin-background $top"),
	    "sandbox $mode: the background process did not survive");
	ok(gone("standin-setsid $top"),
	    "sandbox $mode: the setsid process did not survive");
	is($t->stop, 0, "sandbox $mode: clean stop");
	$t->check_log_clean;
}

# --- writes outside the build's directories ---------------------------------

{
	my $probe = AsudTest->new;
	my $in_tmp = $probe->dir . '/escaped';
	my $in_state = $probe->state_dir . '/escaped';
	my $in_ibs = $probe->ib_dir . '/escaped';
	my $in_sys = abs_path('.') . "/t/sandbox-escaped-$$";
	my @paths = ($in_tmp, $in_state, $in_ibs, $in_sys);
	$probe->{env}{STANDIN_MISBEHAVE} = join(',', map { "escape=$_" }
	    @paths);
	$probe->start;
	like($probe->log_text, qr/builds run in a sandbox/,
	    'the log says builds run in a sandbox');
	my $r = $probe->build({ %REQ });
	is($r->{status}, 200, 'sandbox on: a build that tries to escape '
	    . 'still builds');
	# The private /tmp takes the first write; the others fail inside.
	for my $p (@paths) {
		like($r->{json}{stdout} // '', qr/cannot write \Q$p\E/,
		    "sandbox on: the write to $p failed inside")
		    unless $p eq $in_tmp;
		ok(!-e $p, "sandbox on: $p was not written");
		unlink($p);
	}
	ok(-d $probe->state_dir . '/store/' . $r->{json}{request_hash},
	    'sandbox on: the images were stored');
	my $ok = $probe->post('/api/v1/build', { %REQ, packages => ['test2'],
	    repositories => { custom => "$ALLOWED/x" } });
	isnt($ok->{json}{detail} // '', $REFUSED,
	    'sandbox on: custom repositories are accepted');
	is($probe->stop, 0, 'sandbox on: clean stop');
	$probe->check_log_clean;
}

{
	my $t = AsudTest->new(conf => { sandbox => 'off' });
	my @paths = ($t->dir . '/escaped', $t->state_dir . '/escaped');
	$t->{env}{STANDIN_MISBEHAVE} = join(',', map { "escape=$_" } @paths);
	$t->start;
	my $r = $t->build({ %REQ });
	is($r->{status}, 200, 'sandbox off: the build succeeds');
	ok(-e $_, "sandbox off: $_ was written (the test can see a write)")
	    for @paths;
	like($t->log_text, qr/sandbox = off: builds run without a sandbox/,
	    'sandbox off: the log says so');
	is($t->stop, 0, 'sandbox off: clean stop');
}

# --- where bubblewrap cannot run --------------------------------------------

{
	my $t = daemon({ sandbox_bwrap => '/nonexistent/bwrap' });
	my $log = $t->log_text;
	like($log, qr/sandbox: \/nonexistent\/bwrap cannot run: .+/,
	    'no bwrap: the log names the failure');
	my $what = 'builds run WITHOUT a sandbox, and requests with custom '
	    . 'repositories are refused';
	like($log, qr/\Q$what\E/, 'no bwrap: the log says what follows');
	my $r = $t->post('/api/v1/build', { %REQ,
	    repositories => { custom => "$ALLOWED/x" } });
	is($r->{status}, 400, 'no bwrap: custom repositories get 400');
	is($r->{json}{detail}, $REFUSED, 'no bwrap: with the reason');
	is($r->{json}{status}, 400, 'no bwrap: JSON status 400');
	$r = $t->post('/api/v1/build', { %REQ,
	    repositories => { custom => 'https://elsewhere.example.com/x' } });
	like($r->{json}{detail} // '', qr/^Repository not allowed: /,
	    'no bwrap: the allow-list is checked first');
	$r = $t->build({ %REQ });
	is($r->{status}, 200, 'no bwrap: a build without repositories runs');
	is($t->stop, 0, 'no bwrap: clean stop');
	$t->check_log_clean;
}

{
	my $t = daemon({ sandbox => 'off', sandbox_bwrap => '/nonexistent' });
	my $r = $t->post('/api/v1/build', { %REQ,
	    repositories => { custom => "$ALLOWED/x" } });
	isnt($r->{status}, 400, 'sandbox off: custom repositories accepted');
	unlike($t->log_text, qr/cannot run/, 'sandbox off: no probe');
	is($t->stop, 0, 'sandbox off, no bwrap: clean stop');
}

done_testing();
