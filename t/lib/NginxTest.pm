# NginxTest: the real nginx for a test, in a private directory, serving
# one server block (a shipped file the test edited) on a free port of
# 127.0.0.1:
#
#   my $n = NginxTest->new(dir => $dir, http => 'access_log off;',
#       site => sub { my ($port) = @_; ...; return $server_block });
#   is($n->check, '', 'nginx accepts it');
#   ok($n->start, 'nginx listens');   # $n->port, $n->url
#   $n->stop;
#
# A port found free may be taken by another test's server before nginx
# binds it; nginx then exits and start tries another port (five times).
package NginxTest;

use strict;
use warnings;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More;
use TestFile;
use Time::HiRes qw(sleep time);

our $NGINX = '/usr/sbin/nginx';

# Whether nginx is installed.
sub available { -x $NGINX }

# The shared helpers, under this module's names too.
*free_port = \&TestFile::free_port;
*spew = \&TestFile::spew;
*slurp = \&TestFile::slurp;

# The directory, its nginx.conf and a first server block on a free port.
sub new {
	my ($class, %o) = @_;
	my $self = bless { dir => $o{dir}, site => $o{site} }, $class;
	my $dir = $self->{dir};
	mkdir $dir;
	mkdir "$dir/$_" for qw(body proxy fastcgi uwsgi scgi);
	spew("$dir/nginx.conf", ($> == 0 ? "user root;\n" : '')
	    . "daemon off; worker_processes 1; pid $dir/nginx.pid;\n"
	    . "error_log $dir/error.log; events { worker_connections 256; }\n"
	    . "http { client_body_temp_path $dir/body;\n"
	    . ($o{http} // 'access_log off;') . "\n"
	    . "proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;\n"
	    . "uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;\n"
	    . "include $dir/site.conf; }\n");
	$self->place(free_port());
	return $self;
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub pid { $_[0]{pid} }
sub url { "http://127.0.0.1:$_[0]{port}" }
sub error_log { slurp("$_[0]{dir}/error.log") }

# Writes the server block for port.
sub place {
	my ($self, $port) = @_;
	$self->{port} = $port;
	spew("$self->{dir}/site.conf", $self->{site}->($port));
}

# nginx -t: '' when it accepts the configuration, else what it said.
sub check {
	my ($self) = @_;
	my $out = `$NGINX -t -p $self->{dir} -c $self->{dir}/nginx.conf 2>&1`;
	return $? == 0 ? '' : $out;
}

# The pid in nginx's pid file, which it writes once it has its port.
sub pidfile {
	my ($self) = @_;
	return slurp("$self->{dir}/nginx.pid") =~ /^(\d+)/ ? $1 : 0;
}

# Starts nginx and waits until it answers on its port; 1 when it does.
sub start {
	my ($self) = @_;
	for my $try (1 .. 5) {
		my $pid = fork() // die "fork: $!";
		if ($pid == 0) {
			exec($NGINX, '-p', $self->{dir}, '-c',
			    "$self->{dir}/nginx.conf") or exit 127;
		}
		my ($exited, $up, $deadline) = (0, 0, time + 30);
		until ($up || time > $deadline) {
			if (waitpid($pid, WNOHANG) == $pid) {
				$exited = 1;
				last;
			}
			$up = $self->pidfile == $pid && IO::Socket::INET->new(
			    PeerAddr => "127.0.0.1:$self->{port}");
			sleep 0.05 unless $up;
		}
		if ($up) {
			$self->{pid} = $pid;
			return 1;
		}
		if (!$exited) {
			kill('TERM', $pid);
			waitpid($pid, 0);
		}
		diag("nginx did not start on port $self->{port}:\n"
		    . $self->error_log);
		$self->place(free_port());
	}
	return 0;
}

# Stops nginx.
sub stop {
	my ($self) = @_;
	return unless $self->{pid};
	kill('TERM', $self->{pid});
	waitpid($self->{pid}, 0);
	delete $self->{pid};
}

sub DESTROY { $_[0]->stop }

1;
