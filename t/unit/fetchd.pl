#!/usr/bin/perl
# fetchd.pl: a small HTTP server for t/unit/fetch.c, with core modules
# only. It listens on 127.0.0.1 with a port the kernel picks, prints
# "port N" on stdout, answers each connection in a child process (so that
# slow answers run side by side) and exits when its stdin closes.
#
# Routes (the query string carries the parameters):
#   /ok              200 with a body, an ETag and a Last-Modified; 304 to a
#                    matching If-None-Match or If-Modified-Since
#   /missing         404              /error            500
#   /headers         200, the request head as the body
#   /redirect        302 to /ok       /loop             302 to itself
#   /redirect-file?P 302 to file://P
#   /bytes?n=N       N bytes, byte i being i % 251 (&nolen=1: no length)
#   /slow?n=N&ms=M   N bytes, one every M milliseconds
#   /hang            never answers (closes after 20 s)
#   /truncated       promises 1000 bytes, sends 10, closes
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep);

my $ETAG = '"v1"';
my $LASTMOD = 'Wed, 21 Oct 2015 07:28:00 GMT';

$SIG{CHLD} = 'IGNORE';
$SIG{PIPE} = 'IGNORE';

my $srv = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => 0,
	Listen    => 128,
	ReuseAddr => 1,
	Proto     => 'tcp',
) or die "fetchd: listen: $!\n";
my $port = $srv->sockport;
$| = 1;
print "port $port\n";

# Sends a whole answer: status line, headers, body.
sub answer {
	my ($c, $status, $headers, $body) = @_;
	my $head = "HTTP/1.1 $status\r\nConnection: close\r\n";
	$head .= "$_\r\n" for @$headers;
	$head .= 'Content-Length: ' . length($body) . "\r\n"
	    if defined $body && !grep { /^Content-Length:/i } @$headers;
	print $c "$head\r\n";
	print $c $body if defined $body;
}

# The deterministic body of /bytes.
sub pattern {
	my ($n) = @_;
	my $unit = join '', map { chr } 0 .. 250;
	my $s = $unit x (int($n / 251) + 1);
	return substr($s, 0, $n);
}

# Reads one request head and answers it.
sub serve {
	my ($c) = @_;
	my $head = '';
	local $SIG{ALRM} = sub { exit 0 };
	alarm 30;
	while ($head !~ /\r\n\r\n/) {
		my $n = sysread($c, my $buf, 4096);
		return if !$n;
		$head .= $buf;
	}
	my ($method, $target) = $head =~ m{^(\S+) (\S+) HTTP/};
	return if !defined $target;
	my ($path, $query) = split /\?/, $target, 2;
	$query //= '';
	my %q = map { split /=/, $_, 2 } grep { /=/ } split /&/, $query;
	my %h;
	for my $line (split /\r\n/, $head) {
		$h{lc $1} = $2 if $line =~ /^([^:\s]+):\s*(.*)$/;
	}
	$c->autoflush(1);
	if ($path eq '/ok') {
		if (($h{'if-none-match'} // '') eq $ETAG ||
		    ($h{'if-modified-since'} // '') eq $LASTMOD) {
			answer($c, '304 Not Modified', ["ETag: $ETAG"], undef);
			return;
		}
		answer($c, '200 OK', ["ETag: $ETAG", "Last-Modified: $LASTMOD",
		    'Content-Type: text/plain'], "hello, fetch\n");
	} elsif ($path eq '/missing') {
		answer($c, '404 Not Found', [], "not found\n");
	} elsif ($path eq '/error') {
		answer($c, '500 Internal Server Error', [], "boom\n");
	} elsif ($path eq '/headers') {
		answer($c, '200 OK', [], $head);
	} elsif ($path eq '/redirect') {
		answer($c, '302 Found',
		    ["Location: http://127.0.0.1:$port/ok"], "moved\n");
	} elsif ($path eq '/loop') {
		answer($c, '302 Found', ['Location: /loop'], "again\n");
	} elsif ($path eq '/redirect-file') {
		answer($c, '302 Found', ["Location: file://$query"], '');
	} elsif ($path eq '/bytes') {
		my $body = pattern($q{n} // 0);
		if ($q{nolen}) {
			print $c "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n";
			print $c $body;
		} else {
			answer($c, '200 OK', [], $body);
		}
	} elsif ($path eq '/slow') {
		my $n = $q{n} // 10;
		print $c "HTTP/1.1 200 OK\r\nConnection: close\r\n" .
		    "Content-Length: $n\r\n\r\n";
		for (1 .. $n) {
			sleep(($q{ms} // 100) / 1000);
			print $c 'x' or return;
		}
	} elsif ($path eq '/hang') {
		sleep 20;
	} elsif ($path eq '/truncated') {
		print $c "HTTP/1.1 200 OK\r\nConnection: close\r\n" .
		    "Content-Length: 1000\r\n\r\n0123456789";
	} else {
		answer($c, '404 Not Found', [], "no route\n");
	}
}

my $sel = IO::Select->new($srv, \*STDIN);
for (;;) {
	for my $fh ($sel->can_read) {
		if (fileno($fh) == fileno(STDIN)) {
			my $n = sysread(STDIN, my $buf, 512);
			exit 0 if !$n;
			next;
		}
		my $c = $srv->accept or next;
		my $pid = fork;
		if (defined $pid && $pid == 0) {
			close $srv;
			serve($c);
			shutdown($c, 1);
			close $c;
			exit 0;
		}
		close $c;
	}
}
