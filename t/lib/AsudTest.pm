# AsudTest: starts a real asud on 127.0.0.1 port 0 against stand-in
# ImageBuilders in a private temporary directory, and talks HTTP to it.
#
# With `upstream => 'http'` or `'file'` the stand-in downloads mirror is
# generated too (same --only list) and served by a MirrorServer, or named
# by a file:// URL, as `upstream_url`; `branches => { NAME => { key =>
# value } }` writes [branch NAME] sections. `timeout` is the HTTP client's
# (60 s by default).
package AsudTest;

use strict;
use warnings;
use Cwd qw(abs_path);
use Digest::SHA;
use File::Temp qw(tempdir);
use File::Spec;
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MirrorServer;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);

our $JSON = JSON::PP->new->canonical->allow_nonref;

sub srcdir { $ENV{ASUD_TOP_SRCDIR} // abs_path('.') }
sub bin { $ENV{ASUD_BIN} // abs_path('./asud') }

# Generates stand-in ImageBuilders once per test file (only the listed
# version/target/subtarget triples, to stay fast).
sub new {
	my ($class, %o) = @_;
	my $self = bless {
		dir => tempdir('asud-test-XXXXXX', TMPDIR => 1,
		    CLEANUP => !$ENV{ASUD_KEEP}),
		conf => $o{conf} // {},
		only => $o{only} // ['1.2.3/testtarget/testsubtarget'],
		env => { STANDIN_TIME_SCALE => 0, %{ $o{env} // {} } },
		http => HTTP::Tiny->new(timeout => $o{timeout} // 60,
		    max_redirect => 0),
		upstream => $o{upstream},
		branches => $o{branches} // {},
	}, $class;
	die "AsudTest: upstream is 'http' or 'file'\n" if defined $o{upstream}
	    && $o{upstream} !~ /^(?:http|file)$/;
	$self->{ibdir} = "$self->{dir}/imagebuilders";
	$self->{state} = "$self->{dir}/state";
	$self->{mirrordir} = "$self->{dir}/mirror" if $o{upstream};
	$self->generate unless $o{no_generate};
	$self->start_upstream if $o{upstream};
	return $self;
}

sub dir { $_[0]{dir} }
sub state_dir { $_[0]{state} }
sub ib_dir { $_[0]{ibdir} }
# The mirror's directory (upstream tests), its server (http only) and the
# upstream_url the daemon is given.
sub mirror_dir { $_[0]{mirrordir} }
sub mirror { $_[0]{mirror} }
sub upstream_url { $_[0]{upstream_url} }

# Runs the stand-in generator for this test's targets.
sub generate {
	my ($self) = @_;
	my @args = (srcdir() . '/t/standin/mkstandin', '--ib-root',
	    $self->{ibdir}, map { ('--only', $_) } @{ $self->{only} });
	if ($self->{mirrordir}) {
		push @args, '--mirror', $self->{mirrordir};
		push @args, '--sign', $ENV{ASUD_USIGN_SIGN}, '--sign-key',
		    $self->make_key if $ENV{ASUD_USIGN_SIGN};
	}
	system(@args) == 0 or die "mkstandin failed: $?";
}

# A usign key pair of the test's own: the mirror is signed with it and
# the daemon trusts only it (upstream_keys).
sub make_key {
	my ($self) = @_;
	my $keys = "$self->{dir}/keys";
	mkdir($keys);
	my $sec = "$self->{dir}/test.sec";
	my $id = `"$ENV{ASUD_USIGN_SIGN}" -g "$sec" "$self->{dir}/test.pub"`;
	chomp($id);
	die "usign-sign -g failed" if $? != 0 || $id !~ /^[0-9a-f]{16}$/;
	rename("$self->{dir}/test.pub", "$keys/$id") or die "rename: $!";
	$self->{keys} = $keys;
	$self->{key_id} = $id;
	return $sec;
}
sub keys_dir { $_[0]{keys} }
sub key_secret { "$_[0]{dir}/test.sec" }

# Serves the mirror over HTTP, or names it by a file:// URL.
sub start_upstream {
	my ($self) = @_;
	if ($self->{upstream} eq 'http') {
		$self->{mirror} = MirrorServer->new(root => $self->{mirrordir});
		$self->{upstream_url} = $self->{mirror}->url;
	} else {
		$self->{upstream_url} = 'file://'
		    . abs_path($self->{mirrordir});
	}
}

# Writes the configuration file for the next start.
sub write_conf {
	my ($self) = @_;
	my $changes = srcdir() . '/conf/package-changes.conf';
	my %c = (
		listen => '127.0.0.1:0',
		state_dir => $self->{state},
		imagebuilder_dir => $self->{ibdir},
		upstream_url => $self->{upstream_url} // 'none',
		($self->{upstream} && -f $changes
		    ? (package_changes => $changes) : ()),
		($self->{keys} ? (upstream_keys => $self->{keys}) : ()),
		# Every test client is 127.0.0.1: t/limits.t sets its own.
		rate_limit_builds => 0,
		%{ $self->{conf} },
	);
	my $file = "$self->{dir}/asud.conf";
	open(my $fh, '>', $file) or die "$file: $!";
	print $fh "# written by AsudTest\n";
	print $fh "$_ = $c{$_}\n" for sort keys %c;
	for my $b (sort keys %{ $self->{branches} }) {
		my $s = $self->{branches}{$b};
		print $fh "\n[branch $b]\n";
		print $fh "$_ = $s->{$_}\n" for sort keys %$s;
	}
	close($fh);
	return $file;
}

# Starts the daemon and waits for its "listening on" line.
sub start {
	my ($self, %o) = @_;
	my $conf = $self->write_conf;
	my $log = "$self->{dir}/asud.log";
	$self->{log} = $log;
	my $offset = -s $log // 0;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		$ENV{$_} = $self->{env}{$_} for keys %{ $self->{env} };
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $log);
		open(STDERR, '>>', $log);
		my @cmd = $o{cmd} ? @{ $o{cmd} } : ('-c', $conf);
		# `wrap` goes before the daemon's path (e.g. a shell that
		# sets a ulimit and execs "$@").
		exec(@{ $o{wrap} // [] }, bin(), @cmd, @{ $o{args} // [] })
		    or exit 127;
	}
	$self->{pid} = $pid;
	my $deadline = time + 30;
	while (time < $deadline) {
		if (open(my $fh, '<', $log)) {
			local $/;
			my $text = <$fh> // '';
			$text = substr($text, $offset) if length $text >= $offset;
			if ($text =~ /^listening on ([\d.]+):(\d+)$/m) {
				$self->{port} = $2;
				$self->{base} = "http://127.0.0.1:$2";
				return $self;
			}
		}
		if (waitpid($pid, WNOHANG) == $pid) {
			delete $self->{pid};
			die "asud exited at start:\n" . $self->log_text;
		}
		sleep 0.05;
	}
	die "asud did not start in time:\n" . $self->log_text;
}

sub port { $_[0]{port} }
sub base { $_[0]{base} }
sub pid { $_[0]{pid} }

sub log_text {
	my ($self) = @_;
	open(my $fh, '<', $self->{log}) or return '';
	local $/;
	return <$fh>;
}

# Fails a test when a sanitizer reported anything in the daemon's log.
sub check_log_clean {
	my ($self) = @_;
	my $text = $self->log_text;
	my @bad = grep { /AddressSanitizer|LeakSanitizer|runtime error:/ }
	    split /\n/, $text;
	ok(!@bad, 'daemon log has no sanitizer report')
	    or diag(join("\n", @bad[0 .. ($#bad < 20 ? $#bad : 20)]));
}

# SIGTERM and wait: a clean stop.
sub stop {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill('TERM', $pid);
	my $deadline = time + 30;
	while (time < $deadline) {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) {
			$self->{exit} = $?;
			return $?;
		}
		sleep 0.05;
	}
	kill('KILL', $pid);
	waitpid($pid, 0);
	$self->{exit} = -1;
	return -1;
}

# kill -9: what a crash or power loss looks like to the store.
sub kill9 {
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill('KILL', $pid);
	waitpid($pid, 0);
}

sub DESTROY {
	my ($self) = @_;
	if (my $pid = delete $self->{pid}) {
		kill('KILL', $pid);
		waitpid($pid, 0);
	}
}

# One HTTP request; returns the response with {json} decoded when possible.
sub request {
	my ($self, $method, $path, $body, $headers) = @_;
	my %o = (headers => { %{ $headers // {} } });
	if (defined $body) {
		$o{content} = ref($body) ? $JSON->encode($body) : $body;
		$o{headers}{'Content-Type'} //= 'application/json';
	}
	my $res = $self->{http}->request($method, $self->{base} . $path, \%o);
	$res->{json} = eval { $JSON->decode($res->{content}) }
	    if defined $res->{content} && length $res->{content};
	return $res;
}

# Sends a raw request text (for what HTTP::Tiny will not send: no
# User-Agent, an answer read later); returns the socket.
sub raw_send {
	my ($self, $text) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $self->{port}, Proto => 'tcp') or die "connect: $!";
	binmode($s);
	syswrite($s, $text) == length $text or die "write: $!";
	return $s;
}

# Reads the answer to raw_send (the server closes the connection: send
# `Connection: close`); undef when none came within the timeout.
sub raw_read {
	my ($self, $s, $timeout) = @_;
	my ($buf, $sel) = ('', IO::Select->new($s));
	my $deadline = time + ($timeout // 30);
	while (1) {
		my $left = $deadline - time;
		return undef if $left <= 0 || !$sel->can_read($left);
		my $n = sysread($s, $buf, 65536, length $buf);
		die "read: $!" unless defined $n;
		last if $n == 0;
	}
	close($s);
	my ($head, $body) = split /\r\n\r\n/, $buf, 2;
	my ($line, @lines) = split /\r\n/, $head // '';
	my %res = (content => $body // '', headers => {});
	($res{status}) = ($line // '') =~ m{^HTTP/1\.[01] (\d{3})};
	for my $l (@lines) {
		$res{headers}{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*)$/;
	}
	$res{json} = eval { $JSON->decode($res{content}) }
	    if length $res{content};
	return \%res;
}

sub raw {
	my ($self, $text, $timeout) = @_;
	return $self->raw_read($self->raw_send($text), $timeout);
}

# Whether the daemon still answers a trivial request (within 30 s: a
# loaded machine is slow, a hung daemon never answers).
sub alive {
	my ($self) = @_;
	return 0 unless $self->{pid} && $self->{base};
	my $res = HTTP::Tiny->new(timeout => 30)
	    ->get($self->{base} . '/api/v1/stats');
	return $res->{status} == 200;
}

# Runs one group of checks; a die inside fails a test instead of ending
# the file, and a daemon that stopped answering ends the file at once
# (every later check would only wait for its timeout). Returns what the
# group returned.
sub part {
	my ($self, $name, $code) = @_;
	my @r = eval { $code->() };
	fail("$name: died: $@") if $@;
	BAIL_OUT("asud stopped answering during '$name'") unless $self->alive;
	return @r;
}

# A file of the stand-in mirror (upstream tests), rel below mirror_dir:
# its bytes, or undef when it cannot be read.
sub mirror_file {
	my ($self, $rel) = @_;
	open(my $fh, '<:raw', $self->mirror_dir . "/$rel") or return undef;
	local $/;
	return scalar <$fh>;
}

# A JSON file of the mirror, decoded; undef when it cannot be read.
sub mirror_json {
	my ($self, $rel) = @_;
	my $text = $self->mirror_file($rel);
	return defined $text ? $JSON->decode($text) : undef;
}

# Replaces a JSON file of the mirror atomically.
sub write_mirror_json {
	my ($self, $rel, $data) = @_;
	my $file = $self->mirror_dir . "/$rel";
	open(my $fh, '>', "$file.tmp") or die "$file: $!";
	print $fh $JSON->encode($data);
	close($fh);
	rename("$file.tmp", $file) or die "$file: $!";
}

# Publishes another revision of one target on the mirror (upstream
# tests; rel like "releases/23.05.4/targets/ath79/generic"): the
# ImageBuilder tarball and profiles.json say new where they said old, and
# sha256sums lists the new tarball and is signed again.
sub bump_revision {
	my ($self, $rel, $old, $new) = @_;
	my $dir = $self->mirror_dir . "/$rel";
	my $tb = (glob("$dir/*imagebuilder*.tar.zst"))[0] // die "no tarball";
	(my $top = $tb) =~ s{.*/}{};
	$top =~ s/\.tar\.zst$//;
	my $work = "$self->{dir}/bump-$new";
	my $edit = sub {
		my ($f) = @_;
		open(my $fh, '<', $f) or die "$f: $!";
		my $text = do { local $/; <$fh> };
		close($fh);
		$text =~ s/\Q$old\E/$new/g;
		open($fh, '>', $f) or die "$f: $!";
		print $fh $text;
		close($fh);
	};
	mkdir($work);
	system('tar', '-C', $work, '-xf', $tb) == 0 or die 'untar';
	$edit->($_) for ("$work/$top/.standin/target",
	    "$work/$top/include/version.mk");
	unlink($tb);
	system('tar', '--zstd', '-C', $work, '-cf', $tb, $top) == 0 or die 'tar';
	my $sha = Digest::SHA->new(256)->addfile($tb)->hexdigest;
	open(my $fh, '<', "$dir/sha256sums") or die;
	my $sums = do { local $/; <$fh> };
	close($fh);
	$sums =~ s/^[0-9a-f]{64} (\*?\Q$top\E\.tar\.zst)$/$sha $1/m;
	open($fh, '>', "$dir/sha256sums") or die;
	print $fh $sums;
	close($fh);
	system($ENV{ASUD_USIGN_SIGN}, '-s', $self->key_secret,
	    "$dir/sha256sums") == 0 or die 'sign';
	$edit->("$dir/profiles.json");
}

# The resident memory of a process in kB (from /proc; 0 when gone).
sub rss_kb {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return 0;
	while (<$fh>) {
		return $1 if /^VmRSS:\s+(\d+)/;
	}
	return 0;
}

# The CPU seconds (user and system) a process has used (from /proc;
# undef when gone).
sub cpu_seconds {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return undef;
	my $stat = <$fh>;
	$stat =~ s/^.*\)\s+//s;
	my @f = split /\s+/, $stat;
	return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

sub get { my ($s, $p, $h) = @_; $s->request('GET', $p, undef, $h) }
sub head { my ($s, $p, $h) = @_; $s->request('HEAD', $p, undef, $h) }
sub post { my ($s, $p, $b, $h) = @_; $s->request('POST', $p, $b, $h) }

# Posts a build and polls its hash until it is no longer 202.
sub build {
	my ($self, $req, %o) = @_;
	my $res = $self->post('/api/v1/build', $req, $o{headers});
	return $res unless $res->{status} == 202 && $res->{json};
	return $self->wait_build($res->{json}{request_hash}, %o);
}

sub wait_build {
	my ($self, $hash, %o) = @_;
	my $deadline = time + ($o{timeout} // 60);
	my $res;
	while (time < $deadline) {
		$res = $self->get("/api/v1/build/$hash");
		return $res unless $res->{status} == 202;
		sleep($o{interval} // 0.05);
	}
	return $res;
}

1;
