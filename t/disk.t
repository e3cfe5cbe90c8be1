# What an ImageBuilder leaves on disk and what a full disk does:
# 1. a FIFO, a socket and a symlink in BIN_DIR are neither stored nor
#    served, and fetching one answers 404 while other clients are served;
# 2. a full state directory (a small tmpfs) makes a POST fail at once or
#    its build fail visibly, never a 202 for ever; /metrics says so, and
#    once space is back the next POST builds, with nothing earlier lost;
#    the same when the disk fills while the build runs;
# 3. the same for a full LMDB map (store_map_size_mb).
use strict;
use warnings;
use Test::More;
use Fcntl qw(O_WRONLY O_NONBLOCK);
use File::Path qw(make_path);
use Time::HiRes qw(sleep time);
use AsudTest;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');
my $DISK = qr/No space left on device|disk is full|store is full/;
my @mounted;

END {
	# Whatever happened, no daemon keeps the mount busy and no mount
	# stays behind.
	for my $m (@mounted) {
		$m->[0]->kill9 if $m->[0];
		system('umount', $m->[1]) == 0
		    or system('umount', '-l', $m->[1]);
	}
}

# The value of one unlabelled metric, undef when absent.
sub metric {
	my ($t, $name) = @_;
	my $m = $t->get('/metrics');
	return $m->{content} =~ /^\Q$name\E (\d+)$/m ? $1 : undef;
}

# Waits until a metric has a value (a condition; 60 s is only a guard).
sub wait_metric {
	my ($t, $name, $want) = @_;
	my $deadline = time + 60;
	while (time < $deadline) {
		my $v = metric($t, $name);
		return 1 if defined $v && $v == $want;
		sleep 0.1;
	}
	return 0;
}

# Fills the file system of dir up with one file; returns its path.
sub fill {
	my ($dir) = @_;
	my $file = "$dir/fill";
	system("dd if=/dev/zero of='$file' bs=64k >/dev/null 2>&1");
	return $file;
}

# The final answer of a POST: its 503 (or other error), or its poll's end.
sub outcome {
	my ($t, $req) = @_;
	my $p = $t->post('/api/v1/build', $req);
	return ($p, $p) unless $p->{status} == 202;
	return ($p, $t->wait_build($p->{json}{request_hash}));
}

# Checks that an answer is the visible failure of a full disk.
sub disk_failure {
	my ($p, $r, $what) = @_;
	ok(($p->{status} == 503 && $r == $p) || $r->{status} == 500,
	    "$what: 503 at once or a 500, not a 202 for ever")
	    or diag("POST $p->{status}, then $r->{status}");
	like($r->{json}{detail} // '', $DISK, "$what: the detail names the cause");
	diag("$what: $r->{status} " . ($r->{json}{detail} // ''));
	ok($r->{status} != 503 || $r->{headers}{'retry-after'},
	    "$what: a 503 says when to come back");
}

# --- 1. a FIFO, a socket and a symlink in BIN_DIR ---------------------------

my $t = AsudTest->new(env => { STANDIN_MISBEHAVE => 'fifo' });
$t->start;
my $r = $t->build({ %base, packages => ['test1'] });
is($r->{status}, 200, 'the build that left a FIFO still succeeds');
my $h = $r->{json}{request_hash} // '';
my $dir = $t->state_dir . "/store/$h";
ok(-d $dir, 'its images are stored');
opendir(my $dh, $dir) or die "$dir: $!";
my @odd = grep { -l "$dir/$_" || !-f "$dir/$_" }
    grep { $_ ne '.' && $_ ne '..' } readdir($dh);
closedir($dh);
is_deeply(\@odd, [], 'the stored directory holds regular files only');
ok(-f "$dir/$r->{json}{images}[0]{name}", 'the images are there');
like($t->get("/api/v1/build/$h/log")->{content} // '',
    qr/standin\.fifo.*not a regular file/,
    'the build log says what was left out');

# Put a FIFO into the store by hand too: an older asud may have stored one.
system('mkfifo', "$dir/hand.fifo") == 0 or die "mkfifo: $?";
symlink('/etc/passwd', "$dir/hand.passwd") or die "symlink: $!";
my $s = $t->raw_send("GET /store/$h/hand.fifo HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n\r\n");
ok($t->alive, 'a poll is answered while a client asks for a FIFO');
# Unblock a daemon stuck in open() (the code before the fix); with no
# reader this fails at once.
if (sysopen(my $w, "$dir/hand.fifo", O_WRONLY | O_NONBLOCK)) {
	close($w);
}
my $f = $t->raw_read($s);
is($f && $f->{status}, 404, 'the FIFO is not served');
is($t->get("/store/$h/hand.passwd")->{status}, 404,
    'a symlink out of the store is not served');
is($t->get("/store/$h/standin.passwd")->{status}, 404,
    'nor the one the ImageBuilder left');
ok($t->alive, 'the daemon still answers');
$t->check_log_clean;
$t->stop;

# --- 2. a full disk (a small tmpfs as the state directory) ------------------

my $d = AsudTest->new(env => { STANDIN_TIME_SCALE => 1 });
my $state = $d->state_dir;
make_path($state);
my $mount_err = $> != 0 ? 'not root' :
    system("mount -t tmpfs -o size=16m asud-disk-test '$state' "
    . ">/dev/null 2>&1") == 0 ? '' : 'mount -t tmpfs failed';
push @mounted, [ $d, $state ] unless $mount_err;

SKIP: {
	skip "cannot mount a tmpfs: $mount_err", 27 if $mount_err;
	$d->start;
	my $keep = $d->build({ %base, packages => ['test2'] });
	is($keep->{status}, 200, 'a build before the disk fills');
	is(metric($d, 'asud_disk_full'), 0, 'the disk is not full yet');

	# 2a. Full before the POST.
	my $file = fill($state);
	my %req = (%base, packages => ['test1']);
	my ($p, $end) = outcome($d, \%req);
	disk_failure($p, $end, 'full before the POST');
	is(metric($d, 'asud_disk_full'), 1, '/metrics says the disk is full');
	ok((metric($d, 'asud_store_write_failures_total') // 0) > 0 ||
	    $end->{status} == 500, 'a failed write is counted');
	like($d->log_text, qr/disk is full|No space left on device/,
	    'the log says so');
	my $more = $d->post('/api/v1/build', { %base, packages => ['test3'] });
	is($more->{status}, 503, 'a new build while the disk is full: 503');
	like($more->{json}{detail} // '', $DISK, 'naming the cause');
	ok($more->{headers}{'retry-after'}, 'with Retry-After');
	unlink($file);
	ok(wait_metric($d, 'asud_disk_full', 0),
	    'asud sees that space is back by itself');
	my $again = $d->build(\%req);
	is($again->{status}, 200, 'the same request builds now')
	    or diag($again->{content});
	is($d->get("/api/v1/build/$keep->{json}{request_hash}")->{status},
	    200, 'the earlier build is still there');

	# 2b. Full while the build runs.
	my %req2 = (%base, packages => ['test1', 'test2']);
	my $p2 = $d->post('/api/v1/build', \%req2);
	is($p2->{status}, 202, 'a build is accepted');
	my $h2 = $p2->{json}{request_hash} // '';
	my $ev = $d->raw_send("GET /api/v1/build/$h2/events HTTP/1.1\r\n"
	    . "Host: x\r\nConnection: close\r\n\r\n");
	$file = fill($state);
	my $end2 = $d->wait_build($h2);
	disk_failure($p2, $end2, 'full during the build');
	my $evr = $d->raw_read($ev, 60);
	my @states = ($evr ? $evr->{content} : '')
	    =~ /^data: (\{.*"request_hash".*\})\r?$/mg;
	like($states[-1] // '', qr/"status":500/,
	    'the event stream ends with the failure');
	like($d->get("/api/v1/build/$h2/events")->{content} // '',
	    qr/"status":500/, 'and a new one tells it at once');
	is(metric($d, 'asud_disk_full'), 1, '/metrics says the disk is full');
	my $still = $d->get("/api/v1/build/$p2->{json}{request_hash}");
	isnt($still->{status}, 202, 'a poll after the failure is no 202');
	unlink($file);
	ok(wait_metric($d, 'asud_disk_full', 0), 'space is back');
	my $again2 = $d->build(\%req2);
	is($again2->{status}, 200, 'the request builds once space is back')
	    or diag($again2->{content});
	my $img = $again2->{json}{images}[0]{name} // '';
	is($d->get("/store/$again2->{json}{request_hash}/$img")->{status},
	    200, 'and its image is served');
	is($d->get("/api/v1/build/$keep->{json}{request_hash}")->{status},
	    200, 'nothing stored earlier is lost');
	$d->check_log_clean;
	$d->stop;
}

# --- 2c. only the store's disk is full: the commit of the result fails -----

my $c = AsudTest->new(env => { STANDIN_TIME_SCALE => 1 },
    conf => { allow_defaults => 'true', max_defaults_length => 1048576 });
my $db = $c->state_dir . '/db';
make_path($db);
$mount_err = $> != 0 ? 'not root' :
    system("mount -t tmpfs -o size=8m asud-disk-test '$db' "
    . ">/dev/null 2>&1") == 0 ? '' : 'mount -t tmpfs failed';
push @mounted, [ $c, $db ] unless $mount_err;

SKIP: {
	skip "cannot mount a tmpfs: $mount_err", 13 if $mount_err;
	$c->start;
	my $keep = $c->build({ %base, packages => ['test2'] });
	is($keep->{status}, 200, 'a build before the store fills');
	# A large record (the request holds its defaults) needs new pages.
	my %big = (%base, packages => ['test1'], defaults => join("\n",
	    map { "echo line $_ of a long uci-defaults script" } 1 .. 6000));
	my $p = $c->post('/api/v1/build', \%big);
	is($p->{status}, 202, 'a large build is accepted');
	my $file = fill($db);
	my $end = $c->wait_build($p->{json}{request_hash} // '');
	disk_failure($p, $end, 'store full at the commit');
	like($end->{json}{detail} // '', qr/could not be stored/,
	    'it is the result that could not be stored');
	is(metric($c, 'asud_disk_full'), 1, '/metrics says the disk is full');
	my $more = $c->post('/api/v1/build', { %base, packages => ['test3'] });
	is($more->{status}, 503, 'a new build meanwhile: 503');
	unlink($file);
	ok(wait_metric($c, 'asud_disk_full', 0), 'space is back');
	my $again = $c->build(\%big);
	is($again->{status}, 200, 'the large request builds now')
	    or diag($again->{content});
	is($c->get("/api/v1/build/$keep->{json}{request_hash}")->{status},
	    200, 'nothing stored earlier is lost');
	$c->check_log_clean;
	$c->stop;
}

# --- 3. a full LMDB map ------------------------------------------------------

my $m = AsudTest->new(conf => { store_map_size_mb => 1,
    allow_defaults => 'true', max_defaults_length => 1048576 });
$m->start;
my (@done, $full, $fp, $fr, $freq);
for my $i (1 .. 16) {
	my %rq = (%base, packages => ['test1'],
	    defaults => "# $i\n" . join("\n", map { "echo $i $_" } 1 .. 9000));
	my ($p, $e) = outcome($m, \%rq);
	if ($e->{status} == 200) {
		push @done, $e->{json}{request_hash};
		next;
	}
	($fp, $fr, $freq) = ($p, $e, \%rq);
	last;
}
ok($fr, 'the map fills up') or diag('every build fit into the map');
SKIP: {
	skip 'the map did not fill', 9 unless $fr;
	disk_failure($fp, $fr, 'full map');
	like($fr->{json}{detail} // '', qr/store_map_size_mb/,
	    'the detail names the knob');
	# Deleting the lost record may grow the map (deletes always may), and
	# then asud rightly finds room again within seconds.
	ok(metric($m, 'asud_disk_full') == 1 ||
	    $m->log_text =~ /there is space again/,
	    '/metrics says the store is full until there is room again');
	like($m->log_text, qr/the disk is full: store is full/,
	    'the log says the store is full');
	ok((metric($m, 'asud_store_write_failures_total') // 0) > 0,
	    'the failed writes are counted');
	$m->stop;
	$m->{conf}{store_map_size_mb} = 64;
	$m->start;
	is((grep { $m->get("/api/v1/build/$_")->{status} == 200 } @done),
	    scalar @done, 'nothing stored before is lost (' . @done . ')');
	is($m->build($freq)->{status}, 200,
	    'with a larger map the request builds');
}
$m->check_log_clean;
$m->stop;

done_testing;
