# Log streams under load: many clients of one large finished log cost a
# bounded amount of memory (the log is streamed in pieces, never copied
# whole per client) and each still gets it byte for byte; a line of 64 MB
# reaches an /events follower cut short with a marker, in linear work.
use strict;
use warnings;
use Test::More;
use Digest::MD5 qw(md5_hex);
use IO::Select;
use POSIX ();
use Time::HiRes qw(sleep time);
use AsudTest;

# Reads from every client at once until each has its whole answer (by
# Content-Length) or the deadline passes; with $headers_only, until each
# has its headers. Body bytes go into each client's digest.
sub drain {
	my ($clients, $deadline, $headers_only) = @_;
	my $sel = IO::Select->new(map { $_->{s} } grep { !$_->{done} &&
	    !($headers_only && $_->{head}) } @$clients);
	my %by = map { (fileno($_->{s}) => $_) } @$clients;
	while ($sel->count && time < $deadline) {
		for my $s ($sel->can_read(1)) {
			my $c = $by{fileno($s)};
			my $n = sysread($s, my $buf, 1 << 20);
			if (!$n) {
				$c->{done} = 1;
				$sel->remove($s);
				next;
			}
			if (!$c->{head}) {
				$c->{raw} .= $buf;
				next unless $c->{raw} =~ /\r\n\r\n/;
				my ($head, $body) = split /\r\n\r\n/, $c->{raw}, 2;
				$c->{head} = $head;
				($c->{len}) = $head =~ /^Content-Length:\s*(\d+)/mi;
				$buf = $body;
				delete $c->{raw};
				$sel->remove($s) if $headers_only;
			}
			$c->{md5}->add($buf);
			$c->{got} += length $buf;
			if (defined $c->{len} && $c->{got} >= $c->{len}) {
				$c->{done} = 1;
				$sel->remove($s);
			}
		}
	}
}

my $profile = { version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile' };

# 1. A finished log of 24 MiB, asked for by 160 clients that do not read.
my $big = 24 * 1024 * 1024;
my $t = AsudTest->new(env => { STANDIN_MISBEHAVE => "biglog=$big" },
    timeout => 120);
$t->start;
my $r = $t->build({ %$profile, packages => ['test1'] }, timeout => 120);
is($r->{status}, 200, 'the build with a large log is done');
my $h = $r->{json}{request_hash};
my $plain = $t->get("/api/v1/build/$h/log");
ok(length($plain->{content}) > $big, 'its log is stored whole ('
    . length($plain->{content}) . ' bytes)');
is($plain->{headers}{'content-length'}, length $plain->{content},
    'with its length');
my $z = $t->get("/api/v1/build/$h/log", { 'Accept-Encoding' => 'zstd' });
is($z->{headers}{'content-encoding'}, 'zstd', 'and as stored in zstd');
my %want = (plain => md5_hex($plain->{content}),
    zstd => md5_hex($z->{content}));
my $zlen = length $z->{content};
undef $plain;
undef $z;

my $pid = $t->pid;
my $rss0 = AsudTest::rss_kb($pid);
my (@clients, $n);
$n = 80;
for my $kind (('plain') x $n, ('zstd') x $n) {
	my $ae = $kind eq 'zstd' ? "Accept-Encoding: zstd\r\n" : '';
	my $s = $t->raw_send("GET /api/v1/build/$h/log HTTP/1.1\r\nHost: x\r\n"
	    . "${ae}Connection: close\r\n\r\n");
	push @clients, { s => $s, kind => $kind, md5 => Digest::MD5->new,
	    got => 0 };
}
drain(\@clients, time + 120, 1);
is(scalar(grep { $_->{head} } @clients), 2 * $n,
    'every client got its answer started');
sleep 1;
my $grown = AsudTest::rss_kb($pid) - $rss0;
ok($grown < 200 * 1024, "memory stayed bounded with $n + $n readers that "
    . "do not read (grew by $grown kB)");
diag("RSS grew by $grown kB with 2 x $n idle readers of a "
    . "$big-byte log");
ok($t->alive, 'the daemon still answers others meanwhile');

drain(\@clients, time + 600, 0);
my %ok;
for my $c (@clients) {
	my $enc = $c->{head} =~ /^Content-Encoding:\s*zstd/mi ? 'zstd' : 'plain';
	$ok{$c->{kind}}++ if $c->{done} && $enc eq $c->{kind} &&
	    $c->{head} =~ m{^HTTP/1\.1 200 } &&
	    $c->{md5}->hexdigest eq $want{$c->{kind}};
}
is($ok{plain} // 0, $n, 'every identity reader got the log byte for byte');
is($ok{zstd} // 0, $n, "every zstd reader got the stored frame ($zlen bytes)");
close($_->{s}) for @clients;
@clients = ();

my $since = 1000;
my $full = $t->get("/api/v1/build/$h/log")->{content};
my $tail = $t->get("/api/v1/build/$h/log?since=$since");
is(md5_hex($tail->{content}), md5_hex(substr($full, $since)),
    '?since resumes a streamed log at the byte');
undef $full;
is($t->stop, 0, 'clean stop');
$t->check_log_clean;

# 2. One line of 64 MiB with an /events follower.
my $l = AsudTest->new(env => {
    STANDIN_MISBEHAVE => 'silence=2,longline=67108864' }, timeout => 600);
$l->start;
my $cpu0 = AsudTest::cpu_seconds($l->pid);
my $p = $l->post('/api/v1/build', { %$profile, packages => ['test2'] });
is($p->{status}, 202, 'the long-line build is accepted');
my $lh = $p->{json}{request_hash};
my $t0 = time;
my $ev = HTTP::Tiny->new(timeout => 600)->get($l->base
    . "/api/v1/build/$lh/events");
my $took = time - $t0;
my $cpu = AsudTest::cpu_seconds($l->pid) - $cpu0;
is($ev->{status}, 200, 'the event stream answered');
my @events = map { /^event: (\w+)\ndata: (.*)$/s ? [$1, $2] : () }
    split /\n\n/, $ev->{content};
my @states = map { $AsudTest::JSON->decode($_->[1]) }
    grep { $_->[0] eq 'state' } @events;
my @lines = map { $_->[1] } grep { $_->[0] eq 'log' } @events;
is($states[-1]{status}, 200, 'the follower got the final state');
my $mark = "\xe2\x80\xa6 [line cut]";
my @cut = grep { /^x+\Q$mark\E$/ } @lines;
is(scalar @cut, 1, 'the long line came as one event, cut with a marker');
ok(@cut && length($cut[0]) <= 8192 + length $mark,
    'cut to at most 8 kB (' . (@cut ? length $cut[0] : 0) . ' bytes)');
ok(!(grep { length > 8192 + length $mark } @lines), 'no longer event');
ok((grep { $_ eq '[asud: log truncated]' } @lines),
    'the line after it came too');
is($l->get("/api/v1/build/$lh")->{status}, 200, 'the build is done');
ok($cpu < 8, "linear work: the daemon used $cpu s of CPU for a 64 MB line "
    . '(the rescanning code took 23 s here)');
diag(sprintf('64 MB line with one /events follower: %.1f s, %.2f s CPU',
    $took, $cpu));
is($l->stop, 0, 'clean stop');
$l->check_log_clean;
done_testing();
