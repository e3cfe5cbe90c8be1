# Bad input gets a clear 4xx JSON answer, the daemon keeps serving, and
# nothing is stored.
use strict;
use warnings;
use Test::More;
use AsudTest;

my $t = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget'],
    conf => { max_request_body => 4096, max_defaults_length => 100 });
$t->start;

my %base = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile');

# Checks a 422 and its readable detail and error list.
sub is_422 {
	my ($res, $type, $loc, $name) = @_;
	is($res->{status}, 422, "$name: 422");
	is(ref $res->{json}, 'HASH', "$name: JSON body");
	is($res->{json}{status}, 422, "$name: status in the body");
	ok(defined $res->{json}{detail} && !ref $res->{json}{detail},
	    "$name: detail is a string");
	my ($e) = @{ $res->{json}{errors} // [] };
	is($e->{type}, $type, "$name: type $type");
	is_deeply($e->{loc}, $loc, "$name: loc") if $loc;
	return $e;
}

is_422($t->post('/api/v1/build', '{"version": '), 'json_invalid', undef,
    'malformed JSON');
my $e = is_422($t->post('/api/v1/build', ''), 'missing', ['body'],
    'empty body');
is($e->{msg}, 'Field required', 'empty body message');
is_422($t->post('/api/v1/build', '[1,2]'), 'model_attributes_type',
    undef, 'not an object');
$e = is_422($t->post('/api/v1/build', { %base, packages => 'testpackage' }),
    'list_type', ['body', 'packages'], 'string packages');
is($e->{msg}, 'Input should be a valid list', 'list message');
for my $f (qw(version target profile)) {
	my %r = %base;
	delete $r{$f};
	is_422($t->post('/api/v1/build', \%r), 'missing', ['body', $f],
	    "missing $f");
}
is_422($t->post('/api/v1/build', { %base, version => 12 }), 'string_type',
    ['body', 'version'], 'number as version');
$e = is_422($t->post('/api/v1/build', { %base, rootfs_size_mb => 0 }),
    'greater_than_equal', ['body', 'rootfs_size_mb'], 'rootfs 0');
is($e->{msg}, 'Input should be greater than or equal to 1', 'ge message');
is_422($t->post('/api/v1/build', { %base, rootfs_size_mb => 1025 }),
    'less_than_equal', ['body', 'rootfs_size_mb'], 'rootfs 1025');
is_422($t->post('/api/v1/build', { %base, filesystem => 'fat32' }),
    'literal_error', ['body', 'filesystem'], 'bad filesystem');
$e = is_422($t->post('/api/v1/build', { %base, defaults => 'x' x 101 }),
    'string_too_long', ['body', 'defaults'], 'over-long defaults');
is($e->{msg}, 'String should have at most 100 characters',
    'too long message');

# Shell and make syntax never gets near make.
my @evil = ('a;b', '$(x)', 'PROFILE=x', "a\nb", 'a b', '`id`', 'a|b');
for my $p (@evil) {
	(my $show = $p) =~ s/\n/\\n/g;
	is_422($t->post('/api/v1/build', { %base, packages => ['test1', $p] }),
	    'string_pattern_mismatch', ['body', 'packages', 1],
	    "package '$show'");
	is_422($t->post('/api/v1/build', { %base, profile => $p }),
	    'string_pattern_mismatch', ['body', 'profile'], "profile '$show'");
	is_422($t->post('/api/v1/build', { %base, version => $p }),
	    'string_pattern_mismatch', ['body', 'version'], "version '$show'");
}
is_422($t->post('/api/v1/build', { %base, target => 'a/b/c' }),
    'string_pattern_mismatch', ['body', 'target'], 'target with two slashes');

# Oversized bodies.
my $huge = $t->post('/api/v1/build', { %base, packages => ['x' x 8000] });
is($huge->{status}, 413, 'oversized body 413');
is($huge->{json}{status}, 413, 'oversized body JSON');

# The reference's 400 messages.
my %bad400 = (
	'Unsupported distro: foo' => { %base, distro => 'foo' },
	'Unsupported branch: 99.99.99' => { %base, version => '99.99.99' },
	'Unsupported version: 1.2.4' => { %base, version => '1.2.4' },
	'Unsupported target: nope/nope. The requested target was either '
	    . 'dropped, is still being built or is not supported by the '
	    . 'selected version. Please check the forums or try again later.'
	    => { %base, target => 'nope/nope' },
	'Unsupported profile: nope. The requested profile was either '
	    . 'dropped or never existed. Please check the forums for more '
	    . 'information.' => { %base, profile => 'nope' },
	'Handling `defaults` not enabled on server' =>
	    { %base, defaults => 'echo hi' },
	'Repository not allowed: https://example.org/feed' =>
	    { %base, repositories => { x => 'https://example.org/feed' } },
);
for my $msg (sort keys %bad400) {
	my $res = $t->post('/api/v1/build', $bad400{$msg});
	is($res->{status}, 400, "400: $msg");
	is_deeply($res->{json}, { detail => $msg, status => 400 },
	    '400 body');
}
my $good = $t->post('/api/v1/build', { %base, defaults => '' });
is($good->{status}, 202, 'an empty defaults string is fine');

# Paths outside the store.
for my $path ('/store/../asud.conf', '/store/%2e%2e/%2e%2e/etc/passwd',
    '/store/' . ('a' x 64) . '/..%2f..%2fasud.conf',
    '/store/' . ('a' x 64) . '/%2e%2e', '/store/..%2f..%2fetc%2fpasswd',
    '/store/' . ('a' x 64) . '/.hidden') {
	my $res = $t->get($path);
	is($res->{status}, 404, "refused: $path");
	unlike($res->{content} // '', qr/root:|listen/, 'nothing leaked');
}

# Still serving, and none of the bad requests left anything behind (the
# good one may have finished meanwhile).
my $stats = $t->get('/api/v1/stats');
is($stats->{status}, 200, 'still serving');
opendir(my $dh, $t->state_dir . '/store') or die;
my @entries = grep { !/^\./ && $_ ne ($good->{json}{request_hash} // '') }
    readdir($dh);
closedir($dh);
is(scalar @entries, 0, 'no store directory was created by bad input')
    or diag("@entries");
is($t->stop, 0, 'clean stop');
$t->check_log_clean;

# The queue limit: 529 with the reference's body and a Retry-After.
my $q = AsudTest->new(only => ['1.2.3/testtarget/testsubtarget'],
    conf => { max_pending_jobs => 1 }, env => { STANDIN_TIME_SCALE => 3 });
$q->start;
my @codes = map {
	$q->post('/api/v1/build', { %base, rootfs_size_mb => $_ })
} 1 .. 4;
is($codes[0]{status}, 202, 'first accepted');
my ($full) = grep { $_->{status} == 529 } @codes;
ok($full, 'a request over max_pending_jobs gets 529');
like($full->{json}{detail} // '',
    qr/^server overload, queue contains too many build requests: \d+$/,
    '529 detail');
is($full->{json}{title}, 'Server overloaded', '529 title');
ok($full->{headers}{'retry-after'}, 'Retry-After');
$q->stop;
$q->check_log_clean;

done_testing();
