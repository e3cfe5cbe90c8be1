# store_max: the results' bytes (asud_store_bytes) stay under the budget
# by removing whole results, least recently downloaded (or built, if
# never downloaded) first: at start and after each result is stored,
# never one being downloaded nor the one just built. A removed result
# answers 404 (its build, its files), its download counts go with it
# while asud_image_downloads_total keeps counting, and its request is
# built again. Removals are counted by cause.
use strict;
use warnings;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use AsudTest;

my $t = AsudTest->new(conf => { build_ttl_unversioned => 3600 });
$t->start;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my (%hash, %img);

# Builds the result called $n (its own rootfs size makes its own hash).
sub build_one {
	my ($n, $mb) = @_;
	my $r = $t->build({ %base, rootfs_size_mb => $mb });
	is($r->{status}, 200, "$n is built") or BAIL_OUT($r->{content});
	$hash{$n} = $r->{json}{request_hash};
	$img{$n} = $r->{json}{images}[0]{name};
	return $r;
}

# The bytes of the files in a result's directory.
sub bytes_of {
	my ($n) = @_;
	my $dir = $t->state_dir . "/store/$hash{$n}";
	opendir(my $dh, $dir) or return 0;
	my $sum = 0;
	for my $f (readdir $dh) {
		$sum += -s "$dir/$f" if -f "$dir/$f" && !-l "$dir/$f";
	}
	return $sum;
}

# A sample of /metrics.
sub metric {
	my ($re) = @_;
	my $m = $t->get('/metrics')->{content};
	return $m =~ /^\Q$re\E (\d+)$/m ? $1 : undef;
}

# Whether the result called $n is still there: its build and its file.
sub present {
	my ($n) = @_;
	my $b = $t->get("/api/v1/build/$hash{$n}")->{status};
	my $f = $t->head("/store/$hash{$n}/$img{$n}")->{status};
	return "$b $f";
}

# The download count of a result's image in the listing (undef: none).
sub listed {
	my ($n) = @_;
	my $l = $t->get('/api/v1/stats/downloads?n=1000')->{json};
	for my $im (@{ $l->{images} }) {
		return $im->{downloads} if $im->{request_hash} eq $hash{$n};
	}
	return undef;
}

# Downloads a result's image once.
sub download {
	my ($n) = @_;
	is($t->get("/store/$hash{$n}/$img{$n}")->{status}, 200,
	    "$n downloaded");
	sleep 0.05;	# the next use is strictly later
}

$t->part('store_max is checked like the other sizes', sub {
	my $file = $t->dir . '/check.conf';
	for my $c (['12X', 1], ['-1', 1], ['2G', 0], ['512K', 0], ['0', 0]) {
		open(my $fh, '>', $file) or die "$file: $!";
		print $fh "store_max = $c->[0]\n";
		close($fh);
		my $out = qx{'${\ AsudTest::bin()}' -n -c '$file' 2>&1};
		is($? >> 8, $c->[1], "store_max = $c->[0]: -n exits $c->[1]")
		    or diag($out);
		like($out, qr/\Q$file\E:1: '\Q$c->[0]\E' is not a size/,
		    'and names the line and the value') if $c->[1];
	}
});

$t->part('no budget: everything is kept and measured', sub {
	build_one('A', 64);
	sleep 0.05;
	build_one('B', 65);
	download('B');
	build_one('C', 66);
	download('A');
	my $sum = bytes_of('A') + bytes_of('B') + bytes_of('C');
	ok(bytes_of('A') > 0, 'a result has bytes');
	is(metric('asud_store_bytes'), $sum,
	    "asud_store_bytes is the bytes of the three results ($sum)");
	is(metric('asud_store_removals_total{cause="budget"}'), 0,
	    'no removal for the budget');
	is(metric('asud_store_removals_total{cause="expired"}'), 0,
	    'nor for expiry');
	is(listed('B'), 1, 'B was downloaded once');
});

my $max = bytes_of('A') + bytes_of('C') + int(bytes_of('B') / 2);
$t->part('at start, the least recently used goes', sub {
	$t->stop;
	$t->{conf}{store_max} = $max;
	$t->start;
	is(present('B'), '404 404', 'B (downloaded before C was built) is '
	    . 'gone: its build and its file answer 404');
	is(present('A'), '200 200', 'A (downloaded last) stays');
	is(present('C'), '200 200', 'C (built after B was used) stays');
	is(metric('asud_store_removals_total{cause="budget"}'), 1,
	    'one removal for the budget');
	is(metric('asud_store_bytes'), bytes_of('A') + bytes_of('C'),
	    'asud_store_bytes is what is left');
	ok(metric('asud_store_bytes') <= $max, 'under store_max');
	is(listed('B'), undef, "B's count went with it");
	is(listed('A'), 1, "A's count stays");
	is(metric('asud_image_downloads_total'), 2,
	    'asud_image_downloads_total still counts both downloads');
	ok(!-e $t->state_dir . "/store/$hash{B}", "B's files are gone");
});

$t->part('a result being downloaded is kept', sub {
	# A large file in C's directory, sent from byte 1 to a reader that
	# takes nothing: C is being downloaded, and that is no new use
	# (a resumed download), so C is the least recently used still.
	my $dir = $t->state_dir . "/store/$hash{C}";
	open(my $fh, '>:raw', "$dir/big.bin") or die "$dir/big.bin: $!";
	print $fh 'x' x (64 << 20);
	close($fh);
	my $s = $t->raw_send("GET /store/$hash{C}/big.bin HTTP/1.1\r\n"
	    . "Host: x\r\nRange: bytes=1-\r\nConnection: close\r\n\r\n");
	my ($buf, $sel) = ('', IO::Select->new($s));
	while (index($buf, "\r\n\r\n") < 0 && $sel->can_read(30)) {
		last unless sysread($s, $buf, 1024, length $buf);
	}
	like($buf, qr{^HTTP/1\.1 206 }, 'the slow download has begun');
	build_one('D', 67);
	is(present('C'), '200 200', 'C, being downloaded, stays');
	is(present('A'), '404 404', 'A, the next least recently used, went');
	is(present('D'), '200 200', 'D, just built, stays');
	is(metric('asud_store_removals_total{cause="budget"}'), 2,
	    'two removals for the budget');
	while ($sel->can_read(30)) {
		last unless sysread($s, $buf, 1 << 20);
	}
	close($s);
	sleep 0.2;
	build_one('E', 68);
	is(present('C'), '404 404', 'once sent, C goes first');
	is(present('D'), '200 200', 'D stays');
	is(present('E'), '200 200', 'E stays');
	is(metric('asud_store_removals_total{cause="budget"}'), 3,
	    'three removals for the budget');
	ok(metric('asud_store_bytes') <= $max, 'under store_max');
});

$t->part('a removed result is built again', sub {
	my $p = $t->post('/api/v1/build', { %base, rootfs_size_mb => 65 });
	is($p->{status}, 202, "B's request is accepted as a new build")
	    or diag($p->{content});
	my $r = build_one('B', 65);
	is(present('B'), '200 200', 'B is back');
	is(present('D'), '404 404', 'and D, least recently used, went');
	is(metric('asud_store_removals_total{cause="expired"}'), 0,
	    'nothing expired');
});

$t->part('only results that must stay are left: kept, one warning', sub {
	$t->stop;
	$t->{conf}{store_max} = '1K';
	$t->start;
	is(present('B'), '404 404', 'at start with 1K, B goes');
	is(present('E'), '404 404', 'and E');
	build_one('F', 69);
	is(present('F'), '200 200', 'the result just built stays');
	like($t->log_text, qr/store_max: \d+ bytes of results exceed 1024, /,
	    'and the log says why');
	is(metric('asud_store_bytes'), bytes_of('F'), 'F is all there is');
});

$t->check_log_clean;
$t->stop;
done_testing();
