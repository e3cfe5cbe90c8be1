#!/usr/bin/perl
# make bench: build throughput. Eight distinct builds for one ImageBuilder
# with the stand-in's delays on (it waits like a real build waits on
# downloads and disks), with build_jobs = 1 and then build_jobs = 4, each
# after a warm-up batch that makes the build slots; prints the wall time
# of each batch, the speed-up, the stand-in's CPU seconds per build and
# the server's own CPU time per build (everything but its children).
use strict;
use warnings;
use POSIX qw(sysconf);
use Time::HiRes qw(time);
use AsudTest;

my $BUILDS = $ENV{BENCH_BUILDS} // 8;
my $SCALE = $ENV{BENCH_TIME_SCALE} // 1;
my $TICK = sysconf(POSIX::_SC_CLK_TCK()) || 100;
my %REQ = (version => '1.2.3', target => 'testtarget/testsubtarget',
    profile => 'testprofile', packages => ['test1']);

# The CPU seconds of a process itself (from schedstat, in nanoseconds:
# clock ticks are too coarse for a few milliseconds per build) and of
# its reaped children (cutime+cstime).
sub cpu {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or die "/proc/$pid/stat: $!";
	my $stat = <$fh>;
	$stat =~ s/^.*\)\s+//;
	my @f = split ' ', $stat;
	open(my $sh, '<', "/proc/$pid/schedstat") or
	    die "/proc/$pid/schedstat: $!";
	my ($ns) = split ' ', scalar <$sh>;
	return ($ns / 1e9, ($f[13] + $f[14]) / $TICK);
}

my $distinct = 0;
# Posts n distinct builds (by their rootfs size, as a router asking for a
# bigger one would) and waits (long polls) until all are done.
sub batch {
	my ($t, $n) = @_;
	my @h;
	for my $i (1 .. $n) {
		my $r = $t->post('/api/v1/build', { %REQ,
		    rootfs_size_mb => 200 + $distinct++ });
		die "bench: POST answered $r->{status}\n"
		    unless $r->{status} == 202;
		push @h, $r->{json}{request_hash};
	}
	for my $h (@h) {
		my $r;
		do {
			$r = $t->get("/api/v1/build/$h?wait=60");
		} while ($r->{status} == 202);
		die "bench: a build failed: $r->{status} "
		    . ($r->{json}{detail} // "") . "\n"
		    unless $r->{status} == 200;
	}
}

# One daemon with jobs builds at once: the measured batch's figures.
sub run {
	my ($jobs) = @_;
	my $t = AsudTest->new(conf => { build_jobs => $jobs },
	    env => { STANDIN_TIME_SCALE => $SCALE }, timeout => 120);
	$t->start(args => ['-q']);
	batch($t, $jobs);
	my ($own0, $kids0) = cpu($t->pid);
	my $t0 = time;
	batch($t, $BUILDS);
	my $wall = time - $t0;
	my ($own1, $kids1) = cpu($t->pid);
	$t->stop;
	return { wall => $wall, own => ($own1 - $own0) / $BUILDS,
	    kids => ($kids1 - $kids0) / $BUILDS };
}

my $one = run(1);
my $four = run(4);
printf "builds of one ImageBuilder:      %d, stand-in time scale %s\n",
    $BUILDS, $SCALE;
printf "build_jobs = 1:                  %.1f s\n", $one->{wall};
printf "build_jobs = 4:                  %.1f s\n", $four->{wall};
printf "speed-up:                        %.2fx\n", $one->{wall} / $four->{wall};
printf "stand-in CPU per build:          %.2f s (jobs 1), %.2f s (jobs 4)\n",
    $one->{kids}, $four->{kids};
printf "server time per build:           %.1f ms (jobs 1), %.1f ms (jobs 4)\n",
    $one->{own} * 1000, $four->{own} * 1000;
