# /store/{hash}/{file} as a static file server answers: ETag (the sha256
# of the bytes), Last-Modified, Accept-Ranges and Cache-Control up to the
# result's expiry; single byte ranges (206, 416, ignored when invalid or
# several, If-Range); If-None-Match and If-Modified-Since (304); HEAD with
# every header of GET and no body; 404 for what is missing or expired;
# and a large file sent to a slow reader without asud holding it in
# memory.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use IO::Select;
use Time::HiRes qw(sleep);
use AsudTest;

my $TTL = 3600;
my $t = AsudTest->new(conf => { build_ttl_unversioned => $TTL });
$t->start;

my %req = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my $r = $t->build(\%req);
is($r->{status}, 200, 'the build is done') or BAIL_OUT($r->{content});
my $hash = $r->{json}{request_hash};
my $img = $r->{json}{images}[0];
my $name = $img->{name};
my $path = "/store/$hash/$name";
my $dir = $t->state_dir . "/store/$hash";
my $bytes = do {
	open(my $fh, '<:raw', "$dir/$name") or die "$dir/$name: $!";
	local $/;
	<$fh>;
};
my $size = length $bytes;
ok($size > 10, "the image has bytes ($size)");

# Reads a header of a response (lower-case names).
sub hdr { $_[0]{headers}{lc $_[1]} }

# The max-age of a Cache-Control value, or undef.
sub max_age {
	my ($cc) = @_;
	return defined $cc && $cc =~ /(?:^|[\s,])max-age=(\d+)(?:$|[\s,])/
	    ? $1 : undef;
}

# A raw request and its answer (the connection closed by the server).
sub raw {
	my ($method, $p, @h) = @_;
	return $t->raw("$method $p HTTP/1.1\r\nHost: x\r\n"
	    . join('', map { "$_\r\n" } @h) . "Connection: close\r\n\r\n");
}

# --- 1. a plain GET: the bytes and their headers ---------------------------

my $full = $t->get($path);
my $etag;
$t->part('plain GET', sub {
	is($full->{status}, 200, 'GET 200');
	is($full->{content}, $bytes, 'the exact bytes');
	is(hdr($full, 'content-length'), $size, 'Content-Length');
	$etag = hdr($full, 'etag');
	is($etag, '"' . sha256_hex($full->{content}) . '"',
	    'ETag is the quoted sha256 of the bytes received');
	is($etag, qq("$img->{sha256}"), 'and the sha256 the build lists');
	is(hdr($full, 'accept-ranges'), 'bytes', 'Accept-Ranges: bytes');
	my $lm = hdr($full, 'last-modified') // '';
	like($lm, qr/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/,
	    'Last-Modified is an IMF-fixdate');
	is(parse_date($lm), (stat "$dir/$name")[9],
	    'Last-Modified is the file mtime');
	my $cc = hdr($full, 'cache-control') // '';
	like($cc, qr/^public, max-age=\d+$/, "Cache-Control ($cc)");
	my $age = max_age($cc) // -1;
	ok($age > 0 && $age <= $TTL, "max-age $age is positive, not above "
	    . "the result's TTL $TTL");
	like(hdr($full, 'content-disposition') // '',
	    qr/^attachment; filename="\Q$name\E"$/, 'Content-Disposition');
	is(hdr($full, 'x-content-type-options'), 'nosniff', 'nosniff');
	is(hdr($full, 'content-type'), 'application/octet-stream',
	    'content type');
});

# An HTTP-date (IMF-fixdate) as seconds since the epoch.
sub parse_date {
	my ($s) = @_;
	my %m;
	@m{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} = (0 .. 11);
	my ($d, $mon, $y, $h, $mi, $sec) =
	    $s =~ /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/
	    or return undef;
	require Time::Local;
	return Time::Local::timegm($sec, $mi, $h, $d, $m{$mon}, $y);
}

# An HTTP-date of seconds since the epoch.
sub fmt_date {
	my @g = gmtime($_[0]);
	return sprintf('%s, %02d %s %04d %02d:%02d:%02d GMT',
	    (qw(Sun Mon Tue Wed Thu Fri Sat))[$g[6]], $g[3],
	    (qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec))[$g[4]],
	    $g[5] + 1900, $g[2], $g[1], $g[0]);
}

# --- 2. ranges ---------------------------------------------------------------

# A Range request and what it must answer: the 206 part [first, last].
sub range_ok {
	my ($spec, $first, $last, $what) = @_;
	my $res = $t->get($path, { Range => $spec });
	is($res->{status}, 206, "$what: 206");
	is($res->{content}, substr($bytes, $first, $last - $first + 1),
	    "$what: the bytes $first-$last");
	is(hdr($res, 'content-range'), "bytes $first-$last/$size",
	    "$what: Content-Range");
	is(hdr($res, 'content-length'), $last - $first + 1,
	    "$what: Content-Length");
	is(hdr($res, 'etag'), $etag, "$what: the ETag");
}

$t->part('ranges', sub {
	range_ok('bytes=0-9', 0, 9, 'bytes=0-9');
	range_ok('bytes=5-', 5, $size - 1, 'bytes=5-');
	range_ok('bytes=-7', $size - 7, $size - 1, 'bytes=-7');
	range_ok('bytes=0-' . ($size - 1), 0, $size - 1,
	    'a range exactly the file');
	range_ok('bytes=3-' . ($size + 1000), 3, $size - 1,
	    'a last byte past the end is the end');
	range_ok('bytes=-' . ($size + 5), 0, $size - 1,
	    'a suffix longer than the file is the file');
	range_ok('bytes=' . ($size - 1) . '-' . ($size - 1), $size - 1,
	    $size - 1, 'the last byte alone');
	for my $spec ('bytes=' . $size . '-', 'bytes=' . ($size + 10) . '-' . ($size + 20),
	    'bytes=-0') {
		my $res = $t->get($path, { Range => $spec });
		is($res->{status}, 416, "$spec: 416");
		is(hdr($res, 'content-range'), "bytes */$size",
		    "$spec: Content-Range bytes */size");
	}
	for my $spec ('bytes=0-1,4-5', 'bytes=9-3', 'lines=0-3', 'bytes=x-',
	    'bytes=1-2-3', 'bytes=--3', 'bytes=99999999999999999999999-') {
		my $res = $t->get($path, { Range => $spec });
		my $ok = $spec =~ /^bytes=9{23}-$/ ? 416 : 200;
		is($res->{status}, $ok, "'$spec' is answered $ok");
		is($res->{content}, $bytes, "'$spec': the whole file")
		    if $ok == 200;
		ok(!defined hdr($res, 'content-range'),
		    "'$spec': no Content-Range") if $ok == 200;
	}
});

$t->part('If-Range', sub {
	my $res = $t->get($path, { Range => 'bytes=0-3', 'If-Range' => $etag });
	is($res->{status}, 206, 'If-Range with the ETag: 206');
	$res = $t->get($path, { Range => 'bytes=0-3',
	    'If-Range' => '"' . ('0' x 64) . '"' });
	is($res->{status}, 200, 'If-Range with another tag: 200');
	is($res->{content}, $bytes, 'and the whole file');
	$res = $t->get($path, { Range => 'bytes=0-3', 'If-Range' => "W/$etag" });
	is($res->{status}, 200, 'a weak If-Range never matches: 200');
	$res = $t->get($path, { Range => 'bytes=0-3',
	    'If-Range' => hdr($full, 'last-modified') });
	is($res->{status}, 206, 'If-Range with the Last-Modified date: 206');
	$res = $t->get($path, { Range => 'bytes=0-3',
	    'If-Range' => fmt_date((stat "$dir/$name")[9] - 60) });
	is($res->{status}, 200, 'If-Range with an older date: 200');
});

# --- 3. conditional requests -------------------------------------------------

# A 304 and its headers.
sub not_modified {
	my ($res, $what) = @_;
	is($res->{status}, 304, "$what: 304");
	is($res->{content} // '', '', "$what: no body");
	is(hdr($res, 'etag'), $etag, "$what: ETag");
	is(hdr($res, 'last-modified'), hdr($full, 'last-modified'),
	    "$what: Last-Modified");
	ok((max_age(hdr($res, 'cache-control')) // -1) > 0,
	    "$what: Cache-Control");
}

$t->part('If-None-Match', sub {
	not_modified($t->get($path, { 'If-None-Match' => $etag }),
	    'If-None-Match with the ETag');
	not_modified($t->get($path, { 'If-None-Match' => "W/$etag" }),
	    'a weak tag matches (weak comparison)');
	not_modified($t->get($path,
	    { 'If-None-Match' => qq("abc", $etag, "def") }), 'in a list');
	not_modified($t->get($path, { 'If-None-Match' => '*' }), '*');
	not_modified($t->get($path, { 'If-None-Match' => $etag,
	    Range => 'bytes=0-3' }), 'a match wins over a Range');
	my $res = $t->get($path, { 'If-None-Match' => '"' . ('1' x 64) . '"' });
	is($res->{status}, 200, 'another tag: 200');
	is($res->{content}, $bytes, 'another tag: the bytes');
	$res = $t->get($path, { 'If-None-Match' => '"nope"',
	    'If-Modified-Since' => hdr($full, 'last-modified') });
	is($res->{status}, 200, 'If-Modified-Since is not looked at when '
	    . 'If-None-Match is there');
});

$t->part('If-Modified-Since', sub {
	my $mtime = (stat "$dir/$name")[9];
	not_modified($t->get($path,
	    { 'If-Modified-Since' => hdr($full, 'last-modified') }),
	    'If-Modified-Since the Last-Modified');
	not_modified($t->get($path,
	    { 'If-Modified-Since' => fmt_date($mtime + 3600) }),
	    'If-Modified-Since a later date');
	my $res = $t->get($path,
	    { 'If-Modified-Since' => fmt_date($mtime - 3600) });
	is($res->{status}, 200, 'an older date: 200');
	is($res->{content}, $bytes, 'an older date: the bytes');
	$res = $t->get($path, { 'If-Modified-Since' => 'yesterday' });
	is($res->{status}, 200, 'an invalid date is ignored: 200');
	my @g = gmtime($mtime);
	my $asc = sprintf('%s %s %2d %02d:%02d:%02d %d',
	    (qw(Sun Mon Tue Wed Thu Fri Sat))[$g[6]],
	    (qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec))[$g[4]],
	    $g[3], $g[2], $g[1], $g[0], $g[5] + 1900);
	is($t->get($path, { 'If-Modified-Since' => $asc })->{status}, 304,
	    "the asctime form ($asc) is read too");
});

# --- 4. HEAD ----------------------------------------------------------------

$t->part('HEAD', sub {
	my $h = raw('HEAD', $path);
	is($h && $h->{status}, 200, 'HEAD 200');
	is($h->{content}, '', 'HEAD: no body');
	for my $k (qw(content-length etag last-modified cache-control
	    accept-ranges content-disposition content-type)) {
		is(hdr($h, $k), hdr($full, $k), "HEAD: $k as GET");
	}
	$h = raw('HEAD', $path, 'Range: bytes=2-5');
	is($h && $h->{status}, 206, 'HEAD with a Range: 206');
	is($h->{content}, '', 'HEAD 206: no body');
	is(hdr($h, 'content-range'), "bytes 2-5/$size", 'HEAD 206: Content-Range');
	is(hdr($h, 'content-length'), 4, 'HEAD 206: Content-Length of the part');
	$h = raw('HEAD', $path, "If-None-Match: $etag");
	is($h && $h->{status}, 304, 'HEAD with a matching tag: 304');
	is($h->{content}, '', 'HEAD 304: no body');
	is(hdr($h, 'etag'), $etag, 'HEAD 304: ETag');
	my $g = raw('GET', $path, "If-None-Match: $etag");
	is($g && $g->{content}, '', 'GET 304: no body on the wire');
	$h = raw('HEAD', $path, "Range: bytes=$size-");
	is($h && $h->{status}, 416, 'HEAD with an unsatisfiable Range: 416');
	is(hdr($h, 'content-range'), "bytes */$size", 'HEAD 416: Content-Range');
});

# --- 5. other files, missing ones ------------------------------------------

$t->part('other files', sub {
	# sha256sums does not list itself: its sum is computed here.
	my $res = $t->get("/store/$hash/sha256sums");
	is($res->{status}, 200, 'sha256sums is served');
	is(hdr($res, 'etag'), '"' . sha256_hex($res->{content}) . '"',
	    'its ETag is its sha256 too');
	is($t->get("/store/$hash/sha256sums")->{headers}{etag},
	    hdr($res, 'etag'), 'and stays the same');
	# A file the sums do not list and too large to hash on the loop.
	open(my $fh, '>:raw', "$dir/large.bin") or die "$dir/large.bin: $!";
	print $fh 'x' x (5 * 1024 * 1024);
	close($fh);
	$res = $t->get("/store/$hash/large.bin");
	is($res->{status}, 200, 'an unlisted large file is served');
	is(length $res->{content}, 5 * 1024 * 1024, 'whole');
	ok(!defined hdr($res, 'etag'), 'without an ETag');
	ok(defined hdr($res, 'last-modified'), 'but with Last-Modified');
	is($t->get("/store/$hash/large.bin", { 'If-None-Match' => '*' })
	    ->{status}, 304, 'If-None-Match: * still matches it');
	is($t->get("/store/$hash/large.bin",
	    { 'If-None-Match' => '"' . sha256_hex($res->{content}) . '"' })
	    ->{status}, 200, 'no tag of it matches');
	unlink("$dir/large.bin");
	is($t->get("/store/$hash/nope.bin")->{status}, 404, 'a missing file: 404');
	is($t->head("/store/$hash/nope.bin")->{status}, 404, 'HEAD too');
	is($t->get('/store/' . ('e' x 64) . "/$name")->{status}, 404,
	    'a file of no build: 404');
	is($t->get("/store/$hash/nope.bin", { Range => 'bytes=0-1' })
	    ->{status}, 404, 'a Range of a missing file: 404');
});

# --- 6. a large file and a slow reader -------------------------------------

# The anonymous resident memory of a process in kB (heap, not the page
# cache of files it sends), VmRSS where RssAnon is unknown.
sub anon_kb {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return 0;
	my ($anon, $rss);
	while (<$fh>) {
		$anon = $1 if /^RssAnon:\s+(\d+)/;
		$rss = $1 if /^VmRSS:\s+(\d+)/;
	}
	return $anon // $rss // 0;
}

$t->part('slow reader', sub {
	my $mb = 64;
	my $big = join('', map { chr(($_ * 7) & 0xff) x 1024 } 0 .. 1023)
	    x $mb;
	open(my $fh, '>:raw', "$dir/big.bin") or die "$dir/big.bin: $!";
	print $fh $big;
	close($fh);
	# Listed as the ImageBuilder's checksum step lists its images.
	open($fh, '>>', "$dir/sha256sums") or die "$dir/sha256sums: $!";
	print $fh sha256_hex($big) . " *big.bin\n";
	close($fh);
	my $before = anon_kb($t->pid);
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $t->port, Proto => 'tcp') or die "connect: $!";
	binmode($s);
	syswrite($s, "GET /store/$hash/big.bin HTTP/1.1\r\nHost: x\r\n"
	    . "Connection: close\r\n\r\n");
	my ($buf, $sel) = ('', IO::Select->new($s));
	while (index($buf, "\r\n\r\n") < 0 && $sel->can_read(30)) {
		last unless sysread($s, $buf, 1024, length $buf);
	}
	like($buf, qr{^HTTP/1\.1 200 }, 'the large file is answered');
	like($buf, qr/\r\nETag: "\Q${\ sha256_hex($big)}\E"\r\n/i,
	    'its ETag is the sum sha256sums lists');
	# The answer is queued as a whole once its head is out: had asud
	# read the file into memory, it would hold it now, while this reader
	# takes nothing (the socket buffers hold a few MB at most).
	sleep 1;
	my $during = anon_kb($t->pid);
	ok($during - $before < 16 * 1024, "asud did not buffer the file "
	    . "for a slow reader (anon RSS $before kB, then $during kB)");
	ok($t->alive, 'others are answered meanwhile');
	while ($sel->can_read(30)) {
		my $n = sysread($s, $buf, 1 << 20, length $buf);
		last unless $n;
	}
	close($s);
	my ($head, $body) = split(/\r\n\r\n/, $buf, 2);
	is(length($body // ''), length $big, 'every byte arrives');
	ok(($body // '') eq $big, 'the exact bytes');
	my $res = $t->get("/store/$hash/big.bin",
	    { Range => 'bytes=' . (40 << 20) . '-' . ((40 << 20) + 99) });
	is($res->{status}, 206, 'a range deep in the large file');
	ok($res->{content} eq substr($big, 40 << 20, 100), 'its bytes');
	unlink("$dir/big.bin");
});

$t->check_log_clean;
$t->stop;

# --- 7. an expired result's files are gone ---------------------------------

my $e = AsudTest->new(conf => { build_ttl_unversioned => 2 });
$e->start;
my $p = $e->post('/api/v1/build', \%req);
my $eh = $p->{json}{request_hash} // '';
$e->wait_build($eh);
sleep 3;
is($e->get("/store/$eh/$name")->{status}, 404,
    'the file of an expired result is 404, swept or not');
$e->check_log_clean;
$e->stop;

done_testing;
