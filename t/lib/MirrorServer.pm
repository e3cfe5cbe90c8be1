# MirrorServer: a small HTTP/1.1 server for a stand-in downloads mirror,
# run in a forked child on 127.0.0.1 port 0. It serves the files of one
# directory (GET and HEAD, ETag and Last-Modified with 304 answers to
# conditional requests, 404 for anything missing, no directory listings,
# no `..`), logs every request so that tests can count fetches, and
# injects faults per path prefix from a control file it reads again on
# each request:
#
#   $m->fault('/releases/23.05.4/', 'slow', 5);   # sleep 5 s, then serve
#   $m->fault('/.versions.json', 'late', 2);      # read, 2 s, then send
#   $m->fault('/.versions.json', '404');          # also 500, malformed,
#   $m->fault('/', 'drop');                       # truncate, drop
#   $m->fault('/', undef);  $m->clear_faults;
#
# The longest matching prefix wins. Modes: `404` and `500` (JSON-less
# error pages), `slow N` (sleep N seconds, then answer normally), `late N`
# (make the answer from the file as it is now, send it N seconds later),
# `malformed` (200 with a body of junk JSON), `truncate` (a Content-Length
# larger than the body, then close), `drop` (close without answering).
package MirrorServer;

use strict;
use warnings;
use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use Fcntl qw(O_WRONLY O_APPEND O_CREAT);
use File::Basename qw(dirname basename);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(strftime :sys_wait_h);
use Time::HiRes qw(sleep time);
use Time::Local qw(timegm);

my %MONTHS = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
    Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);

# Starts serving root; the control and log files sit beside it.
sub new {
	my ($class, %o) = @_;
	my $root = abs_path($o{root} // die "MirrorServer: no root\n");
	die "MirrorServer: $root is not a directory\n" unless -d $root;
	my $base = dirname($root) . '/' . basename($root);
	my $self = bless {
		root => $root,
		control => $o{control} // "$base.faults",
		log => $o{log} // "$base.requests",
	}, $class;
	unlink($self->{control}, $self->{log});
	my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Listen => 64, ReuseAddr => 1, Proto => 'tcp')
	    or die "MirrorServer: listen: $!\n";
	$self->{port} = $sock->sockport;
	my $parent = $$;
	my $pid = fork() // die "MirrorServer: fork: $!\n";
	if ($pid == 0) {
		$self->{parent} = $parent;
		POSIX::setpgid(0, 0);
		eval { $self->serve($sock) };
		POSIX::_exit(0);
	}
	POSIX::setpgid($pid, $pid);
	close($sock);
	$self->{pid} = $pid;
	$self->{owner} = $$;
	return $self;
}

sub port { $_[0]{port} }
sub root { $_[0]{root} }
sub url { 'http://127.0.0.1:' . $_[0]{port} }
sub control_file { $_[0]{control} }
sub log_file { $_[0]{log} }

# The fault rules now in force: prefix => [mode, arg].
sub faults {
	my ($self) = @_;
	my %f;
	open(my $fh, '<', $self->{control}) or return {};
	while (my $line = <$fh>) {
		chomp $line;
		next if $line =~ /^\s*(?:#|$)/;
		my ($prefix, $mode, $arg) = split ' ', $line;
		$f{$prefix} = [$mode, $arg] if defined $mode;
	}
	close($fh);
	return \%f;
}

# Sets (or with an undefined mode removes) the fault for a path prefix.
sub fault {
	my ($self, $prefix, $mode, $arg) = @_;
	die "MirrorServer: prefix must start with /\n" unless $prefix =~ m{^/};
	die "MirrorServer: unknown fault mode $mode\n" if defined $mode
	    && $mode !~ /^(?:404|500|slow|late|malformed|truncate|drop)$/;
	my $f = $self->faults;
	if (defined $mode) {
		$f->{$prefix} = [$mode, $arg];
	} else {
		delete $f->{$prefix};
	}
	$self->write_faults($f);
}

sub clear_faults { $_[0]->write_faults({}) }

# Replaces the control file in one rename, so a reader never sees half.
sub write_faults {
	my ($self, $f) = @_;
	my $tmp = "$self->{control}.tmp$$";
	open(my $fh, '>', $tmp) or die "MirrorServer: $tmp: $!\n";
	for my $p (sort keys %$f) {
		my ($mode, $arg) = @{ $f->{$p} };
		print $fh join(' ', $p, $mode, defined $arg ? $arg : ()), "\n";
	}
	close($fh);
	rename($tmp, $self->{control}) or die "MirrorServer: rename: $!\n";
}

# Every request so far (or after the first `since` ones), oldest first:
# { method, path, status, cond } where status is the code sent or the
# fault mode (`drop`, `truncate`) and cond is 1 for a conditional request.
sub requests {
	my ($self, %o) = @_;
	my @r;
	open(my $fh, '<', $self->{log}) or return ();
	local $/;
	my $text = <$fh> // '';
	close($fh);
	for my $line (split /\n/, $text) {
		my ($t, $method, $path, $status, $cond) = split /\t/, $line;
		next unless defined $cond;
		push @r, { time => $t, method => $method, path => $path,
		    status => $status, cond => $cond };
	}
	splice(@r, 0, $o{since}) if $o{since};
	return @r;
}

# A mark for requests(since => ...): the number of requests logged.
sub mark { scalar(my @r = $_[0]->requests) }

# How many requests named exactly this path (after `since`; with
# `status`, only those answered so).
sub count {
	my ($self, $path, %o) = @_;
	return scalar grep { $_->{path} eq $path
	    && (!defined $o{status} || $_->{status} eq $o{status})
	    && (!defined $o{method} || $_->{method} eq $o{method}) }
	    $self->requests(since => $o{since});
}

# Stops the server and every connection child it has.
sub stop {
	my ($self) = @_;
	return unless ($self->{owner} // 0) == $$;
	my $pid = delete $self->{pid} or return;
	kill('TERM', -$pid);
	kill('TERM', $pid);
	my $deadline = time + 10;
	while (time < $deadline) {
		return if waitpid($pid, WNOHANG) == $pid;
		sleep 0.02;
	}
	kill('KILL', -$pid);
	kill('KILL', $pid);
	waitpid($pid, 0);
}

sub DESTROY { $_[0]->stop }

# --- the server side (runs in the child) ------------------------------------

# Accepts connections; one child per connection, so a slow answer never
# holds up the others. Ends by itself when the test process is gone.
sub serve {
	my ($self, $sock) = @_;
	my $sel = IO::Select->new($sock);
	$SIG{CHLD} = 'IGNORE';
	$SIG{TERM} = sub { POSIX::_exit(0) };
	$SIG{PIPE} = 'IGNORE';
	while (1) {
		POSIX::_exit(0) if getppid() != $self->{parent};
		next unless $sel->can_read(1);
		my $c = $sock->accept or next;
		my $pid = fork();
		if (defined $pid && $pid == 0) {
			close($sock);
			eval { $self->connection($c) };
			POSIX::_exit(0);
		}
		close($c);
	}
}

# Answers requests on one connection until it closes or idles 5 s.
sub connection {
	my ($self, $c) = @_;
	my $buf = '';
	binmode($c);
	while (1) {
		my $req = $self->read_request($c, \$buf) or return;
		my $keep = $self->answer($c, $req);
		return unless $keep;
	}
}

# Reads one request head (the body of a GET or HEAD is ignored).
sub read_request {
	my ($self, $c, $buf) = @_;
	my $sel = IO::Select->new($c);
	while ($$buf !~ /\r?\n\r?\n/) {
		return undef if length $$buf > 65536;
		return undef unless $sel->can_read(5);
		my $n = sysread($c, $$buf, 65536, length $$buf);
		return undef unless $n;
	}
	$$buf =~ s/^(.*?)\r?\n\r?\n//s;
	my ($line, @lines) = split /\r?\n/, $1;
	my ($method, $target, $proto) = split ' ', $line // '';
	return undef unless defined $proto && $proto =~ m{^HTTP/1\.[01]$};
	my %h;
	for my $l (@lines) {
		$h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*?)\s*$/;
	}
	my $len = $h{'content-length'} // 0;
	if ($len =~ /^\d+$/ && $len > 0) {
		while (length $$buf < $len) {
			return undef unless $sel->can_read(5);
			my $n = sysread($c, $$buf, 65536, length $$buf);
			return undef unless $n;
		}
		substr($$buf, 0, $len) = '';
	}
	my $keep = $proto eq 'HTTP/1.1';
	$keep = 0 if ($h{connection} // '') =~ /close/i;
	$keep = 1 if ($h{connection} // '') =~ /keep-alive/i;
	return { method => $method, target => $target, headers => \%h,
	    keep => $keep };
}

# The fault for a path: the rule with the longest matching prefix.
sub fault_for {
	my ($self, $path) = @_;
	my $f = $self->faults;
	my ($best) = sort { length $b <=> length $a }
	    grep { substr($path, 0, length $_) eq $_ } keys %$f;
	return defined $best ? @{ $f->{$best} } : ();
}

# Appends one line to the request log (O_APPEND: whole lines only).
sub log_request {
	my ($self, $req, $path, $status) = @_;
	my $cond = (defined $req->{headers}{'if-none-match'}
	    || defined $req->{headers}{'if-modified-since'}) ? 1 : 0;
	(my $p = $path) =~ s/[\t\n]/ /g;
	my $line = join("\t", sprintf('%.3f', time), $req->{method}, $p,
	    $status, $cond) . "\n";
	sysopen(my $fh, $self->{log}, O_WRONLY | O_APPEND | O_CREAT)
	    or return;
	syswrite($fh, $line);
	close($fh);
}

# Writes a whole response; returns whether the connection stays open.
sub respond {
	my ($self, $c, $req, $code, $headers, $body) = @_;
	my %text = (200 => 'OK', 304 => 'Not Modified', 403 => 'Forbidden',
	    404 => 'Not Found', 405 => 'Method Not Allowed',
	    500 => 'Internal Server Error');
	my $out = "HTTP/1.1 $code " . ($text{$code} // 'Status') . "\r\n";
	$headers = [ @$headers, 'Content-Length' => length($body) ]
	    unless $code == 304 || grep { $_ eq 'Content-Length' } @$headers;
	push @$headers, 'Connection' => $req->{keep} ? 'keep-alive' : 'close';
	push @$headers, 'Date' => http_date(time);
	for (my $i = 0; $i < @$headers; $i += 2) {
		$out .= "$headers->[$i]: $headers->[$i + 1]\r\n";
	}
	$out .= "\r\n";
	$out .= $body if $req->{method} ne 'HEAD' && $code != 304;
	write_all($c, $out);
	return $req->{keep};
}

sub write_all {
	my ($c, $data) = @_;
	while (length $data) {
		my $n = syswrite($c, $data);
		return unless $n;
		substr($data, 0, $n) = '';
	}
}

sub http_date { strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($_[0])) }

# Parses an IMF-fixdate; undef for anything else.
sub parse_http_date {
	my ($s) = @_;
	return undef unless defined $s && $s =~
	    /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
	return undef unless exists $MONTHS{$2};
	return eval { timegm($6, $5, $4, $1, $MONTHS{$2}, $3) };
}

# Decodes %XX; a path with `..`, NUL or backslash is refused.
sub clean_path {
	my ($target) = @_;
	(my $path = $target) =~ s/[?#].*//s;
	$path =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
	return undef unless $path =~ m{^/};
	return undef if $path =~ /[\0\\]/;
	return undef if grep { $_ eq '..' } split m{/}, $path;
	return $path;
}

sub content_type {
	my ($path) = @_;
	return 'application/json' if $path =~ /\.json$/;
	return 'text/plain'
	    if $path =~ m{/(?:Packages|sha256sums|feeds\.conf)$};
	return 'application/octet-stream';
}

# Answers one request: a fault, a file, a 304, or an error.
sub answer {
	my ($self, $c, $req) = @_;
	my $path = clean_path($req->{target});
	my $m = $req->{method};

	if (!defined $path) {
		$self->log_request($req, $req->{target}, 403);
		return $self->respond($c, $req, 403,
		    ['Content-Type' => 'text/plain'], "forbidden\n");
	}
	if ($m ne 'GET' && $m ne 'HEAD') {
		$self->log_request($req, $path, 405);
		return $self->respond($c, $req, 405,
		    ['Allow' => 'GET, HEAD', 'Content-Type' => 'text/plain'],
		    "method not allowed\n");
	}
	my ($mode, $arg) = $self->fault_for($path);
	if (defined $mode) {
		return $self->answer_fault($c, $req, $path, $mode, $arg);
	}
	return $self->answer_file($c, $req, $path);
}

# The injected faults.
sub answer_fault {
	my ($self, $c, $req, $path, $mode, $arg) = @_;

	if ($mode eq 'slow') {
		$self->log_request($req, $path, 'slow');
		sleep($arg // 5);
		return $self->answer_file($c, $req, $path, 1);
	}
	if ($mode eq 'late') {
		my @answer = $self->file_answer($req, $path);
		$self->log_request($req, $path, 'late');
		sleep($arg // 5);
		return $self->respond($c, $req, @answer);
	}
	$self->log_request($req, $path, $mode);
	if ($mode eq '404' || $mode eq '500') {
		return $self->respond($c, $req, $mode,
		    ['Content-Type' => 'text/html'],
		    "<html><body>$mode</body></html>\n");
	}
	if ($mode eq 'malformed') {
		return $self->respond($c, $req, 200,
		    ['Content-Type' => 'application/json'],
		    "{\"versions_list\": [\"1.2.3\", oops}, ]\n");
	}
	if ($mode eq 'truncate') {
		my $body = '{"stable_version": "23.05.4", "versions_li';
		$req->{keep} = 0;
		$self->respond($c, $req, 200,
		    ['Content-Type' => 'application/json',
		    'Content-Length' => length($body) + 4096], $body);
		return 0;
	}
	return 0;	# drop: close without a word
}

# Serves a plain file, with the validators and conditional answers.
sub answer_file {
	my ($self, $c, $req, $path, $logged) = @_;
	my ($code, $h, $body) = $self->file_answer($req, $path);

	$self->log_request($req, $path, $code) unless $logged;
	return $self->respond($c, $req, $code, $h, $body);
}

# The answer to a request for a file as it is now: code, headers, body.
sub file_answer {
	my ($self, $req, $path) = @_;
	my $file = $self->{root} . $path;

	if ($path =~ m{/$} || !-f $file || !open(my $fh, '<:raw', $file)) {
		return (404, ['Content-Type' => 'text/html'],
		    "<html><body>404 Not Found</body></html>\n");
	} else {
		local $/;
		my $body = <$fh> // '';
		close($fh);
		my $mtime = (stat($file))[9];
		my $etag = '"' . substr(sha256_hex($body), 0, 32) . '"';
		my @h = ('ETag' => $etag, 'Last-Modified' => http_date($mtime),
		    'Content-Type' => content_type($path));
		my $inm = $req->{headers}{'if-none-match'};
		my $ims = parse_http_date($req->{headers}{'if-modified-since'});
		my $fresh = defined $inm
		    ? (grep { $_ eq $etag || $_ eq "W/$etag" || $_ eq '*' }
		    split /\s*,\s*/, $inm) > 0
		    : (defined $ims && $mtime <= $ims);
		return ($fresh ? 304 : 200, \@h, $body);
	}
}

1;
