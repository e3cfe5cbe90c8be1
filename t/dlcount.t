# Download counts: a GET that sends a file's first byte counts (a 200, a
# 206 from byte 0), a HEAD, a 304, a 416 and a resumed range do not;
# GET /api/v1/stats/downloads lists the images most downloaded first
# with their request's version, target and profile, checks n, and the
# counts (and asud_image_downloads_total) survive a clean stop and a
# kill -9 right after a download.
use strict;
use warnings;
use Test::More;
use AsudTest;

my $t = AsudTest->new(conf => { build_ttl_unversioned => 3600 });
$t->start;

my %req = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);
my $r = $t->build(\%req);
is($r->{status}, 200, 'the build is done') or BAIL_OUT($r->{content});
my $hash = $r->{json}{request_hash};
my @imgs = @{ $r->{json}{images} };
ok(@imgs >= 2, 'the build has two images or more')
    or BAIL_OUT('one image');
my $name = $imgs[0]{name};
my $path = "/store/$hash/$name";
my $enq = $r->{json}{enqueued_at};

# The listing, decoded.
sub listing {
	my ($q) = @_;
	my $l = $t->get('/api/v1/stats/downloads' . ($q // ''));
	is($l->{status}, 200, 'the listing answers 200')
	    or diag($l->{content});
	return $l->{json};
}

# The count of one image of the build in the listing (0: not listed).
sub count_of {
	my ($file) = @_;
	my $l = listing('?n=1000');
	for my $im (@{ $l->{images} }) {
		return $im->{downloads} if $im->{file} eq $file &&
		    $im->{request_hash} eq $hash;
	}
	return 0;
}

# asud_image_downloads_total in /metrics, or undef.
sub metric_total {
	my $m = $t->get('/metrics')->{content};
	return $m =~ /^asud_image_downloads_total (\d+)$/m ? $1 : undef;
}

$t->part('nothing counted yet', sub {
	my $l = listing();
	is($l->{total}, 0, 'total 0');
	is_deeply($l->{images}, [], 'no images');
	is(metric_total(), 0, 'asud_image_downloads_total 0');
});

$t->part('what counts and what does not', sub {
	my $g = $t->get($path);
	is($g->{status}, 200, 'GET 200');
	my $etag = $g->{headers}{etag};
	is(count_of($name), 1, 'a 200 counts');
	is($t->head($path)->{status}, 200, 'HEAD 200');
	is(count_of($name), 1, 'a HEAD does not count');
	is($t->get($path, { 'If-None-Match' => $etag })->{status}, 304,
	    'a 304');
	is(count_of($name), 1, 'a 304 does not count');
	is($t->get($path, { Range => 'bytes=999999999-' })->{status}, 416,
	    'a 416');
	is(count_of($name), 1, 'a 416 does not count');
	is($t->get($path, { Range => 'bytes=5-' })->{status}, 206,
	    '206 from byte 5');
	is($t->get($path, { Range => 'bytes=-3' })->{status}, 206,
	    '206 of the last bytes');
	is(count_of($name), 1, 'resumed ranges do not count');
	is($t->get($path, { Range => 'bytes=0-3' })->{status}, 206,
	    '206 from byte 0');
	is(count_of($name), 2, 'a 206 from byte 0 counts');
	is($t->get("/store/$hash/no-such-file")->{status}, 404, 'a 404');
	is(count_of('no-such-file'), 0, 'a 404 does not count');
	is(metric_total(), 2, 'asud_image_downloads_total 2');
});

$t->part('the listing', sub {
	$t->get("/store/$hash/$imgs[1]{name}") for 1 .. 3;
	my $top = listing();
	is($top->{images}[0]{file}, $imgs[1]{name},
	    'the most downloaded first');
	is($top->{images}[1]{file}, $name, 'then the other');
	my $l = listing('?n=1000');
	my ($im) = grep { $_->{file} eq $name } @{ $l->{images} };
	is($im->{request_hash}, $hash, 'request_hash');
	is($im->{version}, '1.2.3', 'version of the request');
	is($im->{target}, 'testtarget/testsubtarget', 'target');
	is($im->{profile}, 'testprofile', 'profile');
	is($im->{downloads}, 2, 'downloads');
	(my $fmt = $enq) =~ s/\d/9/g;
	(my $got = $im->{last_download} // '') =~ s/\d/9/g;
	is($got, $fmt, "last_download ($im->{last_download}) is printed as "
	    . "enqueued_at ($enq)");
	ok($im->{last_download} ge $enq, 'and comes after the build');
	my $sum = 0;
	$sum += $_->{downloads} for @{ $l->{images} };
	is($l->{total}, $sum, "total is the sum of the counts ($sum)");
	is($sum, 5, 'five downloads in all');
	is(scalar @{ listing('?n=1')->{images} }, 1, 'n=1 lists one');
});

$t->part('n is checked', sub {
	for my $bad ('0', '1001', 'abc', '1.5', '-1', '+5', '10x',
	    '99999999999999999999') {
		my $b = $t->get("/api/v1/stats/downloads?n=$bad");
		is($b->{status}, 400, "n=$bad: 400");
		is($b->{json}{detail} // '',
		    'Invalid n: must be an integer from 1 to 1000',
		    "n=$bad: the detail says why");
	}
	is($t->get('/api/v1/stats/downloads?n=1000')->{status}, 200,
	    'n=1000 is fine');
});

my $before = metric_total();
my $count = count_of($name);
$t->part('a clean stop keeps the counts', sub {
	$t->stop;
	$t->start;
	is(count_of($name), $count, "still $count after a restart");
	is(metric_total(), $before, "asud_image_downloads_total $before");
});

$t->part('a kill -9 right after a download keeps it', sub {
	is($t->get($path)->{status}, 200, 'GET 200');
	$t->kill9;
	$t->start;
	is(count_of($name), $count + 1, 'the last download is counted');
	is(metric_total(), $before + 1, 'and in the total');
});

$t->check_log_clean;
$t->stop;
done_testing();
