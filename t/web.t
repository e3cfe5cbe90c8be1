# The web page asud serves at /: its links answer, and its script (run
# under node with a small DOM and EventSource, t/web-harness.js) follows a
# build from the queue to the end as a person would: state, live log
# lines, and download links that give the built bytes.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use AsudTest;

my $t = AsudTest->new(env => { STANDIN_TIME_SCALE => 1 });
$t->start;

my $page = $t->get('/');
is($page->{status}, 200, 'the page');
like($page->{headers}{'content-type'}, qr{^text/html}, 'as HTML');
my @hrefs = $page->{content} =~ /href="(\/[^"#]*)"/g;
ok(@hrefs >= 3, 'the page links to the server\'s own endpoints');
is($t->get($_)->{status}, 200, "link $_ answers") for @hrefs;
ok(index($page->{content},
    'new EventSource("/api/v1/build/" + hash + "/events")') >= 0,
    'the page follows builds through their event stream');

my $node = (grep { -x } '/usr/bin/node', '/usr/bin/nodejs')[0];
unless ($node) {
	diag('node is not installed: the page\'s script is not run');
	is($t->stop, 0, 'clean stop');
	done_testing();
	exit 0;
}
my $harness = AsudTest::srcdir() . '/t/web-harness.js';
# The page as served, not as in the source tree.
my $file = $t->dir . '/index.html';
open(my $fh, '>', $file) or die "$file: $!";
print $fh $page->{content};
close $fh;

# Runs the page's script following hash; returns what the page showed.
sub run_page {
	my ($hash) = @_;
	my $out = `"$node" "$harness" "$file" "${\ $t->base}" "$hash" 2>&1`;
	my $shown = eval { decode_json($out) };
	diag("page: $out") unless $shown;
	return $shown // {};
}

my $p = $t->post('/api/v1/build', { version => '1.2.3',
    target => 'testtarget/testsubtarget', profile => 'testprofile',
    packages => ['test1'] });
is($p->{status}, 202, 'a build is accepted');
my $h = $p->{json}{request_hash} // '';
my $shown = run_page($h);
like($shown->{state} // '', qr/^done/, 'the page shows the build done');
like($shown->{log} // '', qr/Building images/,
    'the page shows the log lines as they came');
like($shown->{queue} // '', qr/^\d+ running, \d+ waiting$/,
    'the page shows the queue');
my $done = $t->get("/api/v1/build/$h");
my %sha = map { ("/store/$h/$_->{name}" => $_->{sha256}) }
    @{ $done->{json}{images} // [] };
is_deeply([sort @{ $shown->{images} // [] }], [sort keys %sha],
    'the page links every image');
for my $link (@{ $shown->{images} // [] }) {
	my $img = $t->get($link);
	is(sha256_hex($img->{content} // ''), $sha{$link},
	    "the link $link gives the built bytes");
}

# Followed after its end: the page shows the stored log instead.
my $after = run_page($h);
like($after->{state} // '', qr/^done/, 'a finished build: done');
is($after->{log}, $t->get("/api/v1/build/$h/log")->{content},
    'a finished build: the page shows its stored log');

my $none = run_page('0' x 64);
is($none->{state}, 'no such build, or the server went away',
    'an unknown hash: the page says so');
is($t->stop, 0, 'clean stop');
$t->check_log_clean;
done_testing();
