# Build logs over HTTP: followed live from the first line to the end of a
# build (chunked), byte for byte the stored log; ?since resumes; finished
# logs in zstd (as stored) or identity.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempfile);
use Time::HiRes qw(sleep time);
use AsudTest;

my $t = AsudTest->new(env => { STANDIN_TIME_SCALE => 1 });
$t->start;
my $p = $t->post('/api/v1/build', { version => '1.2.3',
    target => 'testtarget/testsubtarget', profile => 'testprofile',
    packages => ['test1'] });
is($p->{status}, 202, 'build accepted');
my $h = $p->{json}{request_hash};

# Follow it from the start; count the chunks as they arrive.
my ($followed, $chunks, $first_at, $t0) = ('', 0, undef, time);
my $http = HTTP::Tiny->new(timeout => 120);
my $res = $http->get($t->base . "/api/v1/build/$h/log", {
    data_callback => sub { $followed .= $_[0]; $chunks++;
	$first_at //= time - $t0 } });
is($res->{status}, 200, 'the followed log answers 200');
ok($chunks > 1, "it arrived in pieces as the build printed ($chunks)");
like($followed, qr/Building images/, 'it holds the ImageBuilder output');
my $done = $t->get("/api/v1/build/$h");
is($done->{status}, 200, 'the stream ended with the build');

# The stored log, identity and zstd.
my $plain = $t->get("/api/v1/build/$h/log");
is($plain->{status}, 200, 'the finished log');
ok(!$plain->{headers}{'content-encoding'}, 'identity when zstd is not accepted');
is($plain->{content}, $followed, 'followed byte for byte as stored');
my $z = $t->get("/api/v1/build/$h/log", { 'Accept-Encoding' => 'zstd' });
is($z->{headers}{'content-encoding'}, 'zstd', 'zstd when accepted');
my ($fh, $file) = tempfile(DIR => $t->dir);
binmode($fh);
print $fh $z->{content};
close($fh);
my $unz = `zstd -dc "$file"`;
is($unz, $plain->{content}, 'the zstd body decompresses to the same log');
my $since = int(length($plain->{content}) / 2);
is($t->get("/api/v1/build/$h/log?since=$since")->{content},
    substr($plain->{content}, $since), '?since resumes');
unlike($plain->{content}, qr/uci-defaults-secret/, 'no defaults in logs');
is($t->get('/api/v1/build/' . ('0' x 64) . '/log')->{status}, 404,
    'no log for an unknown hash');

# A follower that starts late with ?since misses nothing after it.
my $p2 = $t->post('/api/v1/build', { version => '1.2.3',
    target => 'testtarget/testsubtarget', profile => 'testprofile',
    packages => ['test2'] });
my $h2 = $p2->{json}{request_hash};
sleep 1.5;
my $late = $http->get($t->base . "/api/v1/build/$h2/log?since=10");
is($t->wait_build($h2)->{status}, 200, 'second build done');
is($late->{content}, substr($t->get("/api/v1/build/$h2/log")->{content}, 10),
    'a late follower with ?since gets the rest exactly');

# The event stream of a build, for web pages: states and log lines.
my $p3 = $t->post('/api/v1/build', { version => '1.2.3',
    target => 'testtarget/testsubtarget', profile => 'testprofile',
    packages => ['zzz'] });
my $h3 = $p3->{json}{request_hash};
my $ev = $http->get($t->base . "/api/v1/build/$h3/events");
is($ev->{status}, 200, 'the event stream answers 200');
like($ev->{headers}{'content-type'}, qr{^text/event-stream}, 'as an event stream');
my @events = map { /^event: (\w+)\ndata: (.*)$/s ? [$1, $2] : () }
    split /\n\n/, $ev->{content};
my @states = map { $AsudTest::JSON->decode($_->[1]) }
    grep { $_->[0] eq 'state' } @events;
my @lines = grep { $_->[0] eq 'log' } @events;
ok(@states >= 2, 'several state events (' . scalar(@states) . ')');
is($states[0]{status}, 202, 'the first says the build is under way');
is($states[-1]{status}, 200, 'the last says it is done');
is($states[-1]{detail}, 'done', 'with its detail');
ok((grep { $_->{imagebuilder_status} eq 'building_image' } @states),
    'a phase change was sent');
ok(scalar(grep { $_->[1] =~ /Building images/ } @lines),
    'log lines were sent as events');
my $fin = $t->get("/api/v1/build/$h3/events");
like($fin->{content}, qr/^event: state\ndata: \{.*"status":200/,
    'a finished build sends its final state');

is($t->stop, 0, 'clean stop');
$t->check_log_clean;

# A follower that does not read is cut off past log_follow_max; another
# follower of the same build gets the whole log. The cap is well above
# what a reader on a busy machine falls behind (it once lost at 8M), and
# well below the 48 MB the non-reader leaves unread.
my $n = AsudTest->new(conf => { log_follow_max => '20M',
    build_wrapper => AsudTest::srcdir() . '/t/noisy-wrapper.sh' },
    env => { NOISE_MB => 16, STANDIN_TIME_SCALE => 1 });
$n->start;
my $np = $n->post('/api/v1/build', { version => '1.2.3',
    target => 'testtarget/testsubtarget', profile => 'testprofile',
    packages => ['aaa'] });
my $nh = $np->{json}{request_hash};
my $slow = $n->raw_send("GET /api/v1/build/$nh/log HTTP/1.1\r\nHost: x\r\n\r\n");
my $good = HTTP::Tiny->new(timeout => 120)->get($n->base
    . "/api/v1/build/$nh/log");
is($good->{status}, 200, 'the reading follower got its log');
ok(length($good->{content}) > 3 * 16 * 1024 * 1024,
    'all of it (' . length($good->{content}) . ' bytes)');
like($n->log_text, qr/log follower of \S+ cut off/,
    'the slow follower was cut off');
my $tail = '';
$slow->blocking(1);
while (defined(my $line = <$slow>)) {
	$tail = $line if $line =~ /\S/;
	last if $line =~ /cut off/;
}
like($tail, qr/too slowly and was cut off; resume with \?since=\d+/,
    'with a clear last line');
close($slow);
is($n->wait_build($nh)->{status}, 200, 'the build itself was not disturbed');
is($n->stop, 0, 'clean stop');
$n->check_log_clean;
done_testing();
