# The layers of the source tree, read from its #include lines: lib/
# includes nothing of asud's other directories, store/ and imagebuilder/
# include only lib/ (and themselves), server/ may include them all; the
# modules of server/ (X.c and X.h are module X, which depends on Y when
# either includes "server/Y.h") include each other without a cycle; and
# Makefile.am builds each directory's files into that layer's library.
# The checker is first run on small trees it writes, with and without
# each fault, so that it is known to find them.
#
# Usage: perl t/layers.t [DIR]   (default: $ASUD_TOP_SRCDIR, else .)
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Basename qw(dirname);

# Which layers each layer's files may include.
my %layers_may = (
	lib => ['lib'],
	store => ['lib', 'store'],
	imagebuilder => ['lib', 'imagebuilder'],
	server => ['lib', 'store', 'imagebuilder', 'server'],
);
my @layers_order = ('lib', 'store', 'imagebuilder', 'server');

# Which Makefile.am variables hold each layer's sources.
my %layers_vars = (
	lib => ['libasud_lib_a_SOURCES'],
	store => ['libasud_store_a_SOURCES'],
	imagebuilder => ['libasud_imagebuilder_a_SOURCES'],
	server => ['libasud_server_a_SOURCES', 'asud_SOURCES'],
);

# Returns the .c and .h files directly under DIR/LAYER, sorted.
sub layers_files {
	my ($dir, $layer) = @_;

	opendir(my $dh, "$dir/$layer") or return ();
	my @f = sort grep { /\.[ch]\z/ && -f "$dir/$layer/$_" } readdir($dh);
	closedir($dh);
	return map { "$layer/$_" } @f;
}

# Returns PATH, included by FILE relative to FILE's directory, relative
# to the top of the tree instead.
sub layers_relative {
	my ($file, $path) = @_;
	my @n;

	for (split(m{/}, dirname($file) . "/$path")) {
		if ($_ eq '..') {
			pop @n;
		} elsif ($_ ne '.') {
			push @n, $_;
		}
	}
	return join('/', @n);
}

# Returns the quoted includes of DIR/FILE as [line, path], the path made
# relative to the top of the tree when it names a file by "../".
sub layers_includes {
	my ($dir, $file) = @_;
	my @inc;

	open(my $fh, '<', "$dir/$file") or die "$dir/$file: $!";
	while (my $line = <$fh>) {
		next unless $line =~ /^\s*#\s*include\s*"([^"]+)"/;
		my $path = $1;
		$path = layers_relative($file, $path) if $path =~ m{^\.\.?/};
		push @inc, [$., $path];
	}
	close($fh);
	return @inc;
}

# Returns the layer an include path belongs to, or undef for a path
# outside the layers (config.h, t/unit/tap.h, a system header).
sub layers_of {
	my ($path, $from) = @_;

	return $1 if $path =~ m{^([^/]+)/} && $layers_may{$1};
	return $from if $path !~ m{/};
	return undef;
}

# Returns the "file:line: includes path" faults of LAYER's files that
# include a layer LAYER may not use.
sub layers_faults {
	my ($dir, $layer) = @_;
	my %may = map { $_ => 1 } @{$layers_may{$layer}};
	my @faults;

	for my $file (layers_files($dir, $layer)) {
		for my $inc (layers_includes($dir, $file)) {
			my $to = layers_of($inc->[1], $layer);
			next if !defined $to || $may{$to};
			push @faults, "$file:$inc->[0]: includes \"$inc->[1]\"";
		}
	}
	return @faults;
}

# Returns the module graph of DIR/server: module => { module => 1 }.
sub layers_graph {
	my ($dir) = @_;
	my %g;

	for my $file (layers_files($dir, 'server')) {
		my ($m) = $file =~ m{^server/(.+)\.[ch]\z};
		$g{$m} //= {};
		for my $inc (layers_includes($dir, $file)) {
			next unless $inc->[1] =~ m{^server/(.+)\.h\z};
			$g{$m}{$1} = 1 if $1 ne $m;
		}
	}
	return \%g;
}

# Returns the strongly connected components of more than one module in
# graph G (Tarjan), each as a sorted list; sorted by their first module.
sub layers_cycles {
	my ($g) = @_;
	my ($index, @stack, %on, %idx, %low, @sccs) = (0);
	my $visit;

	$visit = sub {
		my ($v) = @_;
		$idx{$v} = $low{$v} = $index++;
		push @stack, $v;
		$on{$v} = 1;
		for my $w (sort keys %{$g->{$v} // {}}) {
			if (!defined $idx{$w}) {
				$visit->($w);
				$low{$v} = $low{$w} if $low{$w} < $low{$v};
			} elsif ($on{$w} && $idx{$w} < $low{$v}) {
				$low{$v} = $idx{$w};
			}
		}
		return if $low{$v} != $idx{$v};
		my @scc;
		while (1) {
			my $w = pop @stack;
			delete $on{$w};
			push @scc, $w;
			last if $w eq $v;
		}
		push @sccs, [sort @scc] if @scc > 1;
	};
	for my $v (sort keys %$g) {
		$visit->($v) unless defined $idx{$v};
	}
	undef $visit;
	return sort { $a->[0] cmp $b->[0] } @sccs;
}

# Returns one shortest cycle through the first module of SCC, within
# SCC, as a list of modules starting and ending with that module.
sub layers_cycle_path {
	my ($g, $scc) = @_;
	my %in = map { $_ => 1 } @$scc;
	my $start = $scc->[0];
	my %prev;
	my @queue = ($start);

	while (@queue) {
		my $v = shift @queue;
		for my $w (sort keys %{$g->{$v}}) {
			next unless $in{$w};
			if ($w eq $start) {
				my @path = ($start);
				for (my $u = $v; $u ne $start; $u = $prev{$u}) {
					unshift @path, $u;
				}
				return ($start, @path);
			}
			next if exists $prev{$w};
			$prev{$w} = $v;
			push @queue, $w;
		}
	}
	return ($start);
}

# Returns the line naming one cycle through knot SCC of graph G.
sub layers_cycle_line {
	my ($g, $scc) = @_;

	return 'cycle: ' . join(' -> ', layers_cycle_path($g, $scc)) .
	    ' (modules in the knot: ' . join(' ', @$scc) . ')';
}

# Returns one line per cycle of DIR/server's module graph, naming a
# cycle and the modules caught in it; with EDGES, each followed by the
# modules of its knot each of them includes: the edges that may be cut.
sub layers_cycle_report {
	my ($dir, $edges) = @_;
	my $g = layers_graph($dir);
	my @lines;

	for my $scc (layers_cycles($g)) {
		my %in = map { $_ => 1 } @$scc;
		push @lines, layers_cycle_line($g, $scc);
		next unless $edges;
		push @lines, map {
			"  $_ includes " . join(' ', map { "server/$_.h" }
			    grep { $in{$_} } sort keys %{$g->{$_}})
		} @$scc;
	}
	return @lines;
}

# Returns Makefile.am's assignments: variable => [words], joined over
# "=" and "+=" and continuation lines.
sub layers_makefile_vars {
	my ($dir) = @_;
	my (%vars, $text);

	open(my $fh, '<', "$dir/Makefile.am") or return undef;
	{ local $/; $text = <$fh>; }
	close($fh);
	$text =~ s/\\\n/ /g;
	for (split(/\n/, $text)) {
		next unless /^(\w+)\s*(\+?=)(.*)$/;
		$vars{$1} = [] if $2 eq '=';
		push @{$vars{$1}}, split(' ', $3);
	}
	return \%vars;
}

# Returns the faults of Makefile.am's layer libraries: a file of a layer
# directory missing from its layer's variables, or listed in another's.
sub layers_makefile_faults {
	my ($dir, $vars) = @_;
	my (%where, @faults);

	for my $layer (@layers_order) {
		for my $var (@{$layers_vars{$layer}}) {
			$where{$_}{$layer} = 1 for @{$vars->{$var} // []};
		}
	}
	for my $layer (@layers_order) {
		for my $file (layers_files($dir, $layer)) {
			my $in = $where{$file} // {};
			push @faults, "$file: in no $layer library of " .
			    'Makefile.am' unless $in->{$layer};
			push @faults, "$file: in the $_ library"
			    for grep { $_ ne $layer } sort keys %$in;
		}
	}
	return @faults;
}

# Writes the files of hash FILES (path => content) into a new temporary
# directory; returns it.
sub layers_fake_tree {
	my (%files) = @_;
	my $dir = tempdir(CLEANUP => 1);

	for my $path (sort keys %files) {
		make_path(dirname("$dir/$path"));
		open(my $fh, '>', "$dir/$path") or die "$dir/$path: $!";
		print $fh $files{$path};
		close($fh);
	}
	return $dir;
}

# Runs every check on DIR; NAME says which tree it is.
sub layers_check_tree {
	my ($dir, $name) = @_;

	for my $layer (@layers_order) {
		my @f = layers_faults($dir, $layer);
		ok(!@f, "$name: $layer/ includes only " .
		    join(', ', map { "$_/" } @{$layers_may{$layer}}));
		diag($_) for @f;
	}
	my @c = layers_cycle_report($dir, 1);
	ok(!@c, "$name: the modules of server/ include each other " .
	    'without a cycle');
	diag($_) for @c;
	my $vars = layers_makefile_vars($dir);
	ok($vars, "$name: Makefile.am read");
	my @m = $vars ? layers_makefile_faults($dir, $vars) : ();
	ok(!@m, "$name: Makefile.am builds each layer's files into its " .
	    'library');
	diag($_) for @m;
}

# The checker itself, on fake trees.
my $mk = "libasud_lib_a_SOURCES = lib/x.c\n" .
    "libasud_store_a_SOURCES = store/s.c\n" .
    "libasud_imagebuilder_a_SOURCES = imagebuilder/i.c\n" .
    "libasud_server_a_SOURCES = server/a.c server/a.h \\\n" .
    "\tserver/b.c server/b.h\n" .
    "libasud_server_a_SOURCES += server/c.c server/c.h\n" .
    "asud_SOURCES = server/main.c\n";
my %good = (
	'Makefile.am' => $mk,
	'lib/x.c' => "#include \"lib/x.h\"\n#include <stdio.h>\n",
	'store/s.c' => "#include \"lib/x.h\"\n#include \"config.h\"\n",
	'imagebuilder/i.c' => "#include \"lib/x.h\"\n#include \"i.h\"\n",
	'server/a.c' => "#include \"server/a.h\"\n#include \"server/b.h\"\n",
	'server/a.h' => "#include \"store/s.h\"\n",
	'server/b.c' => "#include \"server/b.h\"\n#include \"server/c.h\"\n",
	'server/b.h' => "#include \"imagebuilder/i.h\"\n",
	'server/c.c' => "#include \"server/c.h\"\n",
	'server/c.h' => "#include \"lib/x.h\"\n",
	'server/main.c' => "#include \"server/a.h\"\n#include \"server/c.h\"\n",
);
my $dir = layers_fake_tree(%good);
is_deeply([map { [layers_faults($dir, $_)] } @layers_order],
    [[], [], [], []], 'an acyclic fake tree: no layer fault');
is_deeply([layers_cycle_report($dir)], [],
    'an acyclic fake tree: no cycle');
is_deeply([layers_makefile_faults($dir, layers_makefile_vars($dir))], [],
    'an acyclic fake tree: Makefile.am right');

$dir = layers_fake_tree(%good,
    'lib/x.c' => "#include \"store/s.h\"\n",
    'store/s.c' => "#include \"imagebuilder/i.h\"\n",
    'imagebuilder/i.c' => "#include \"lib/x.h\"\n#include \"../server/a.h\"\n",
    'server/c.c' => "#include \"server/a.h\"\n",
    'server/c.h' => "#include \"server/b.h\"\n",
    'server/main.c' => "#include \"server/main.h\"\n",
    'server/main.h' => "#include \"server/a.h\"\n");
is_deeply([layers_faults($dir, 'lib')], ['lib/x.c:1: includes "store/s.h"'],
    'a fake lib/ reaching up: found');
is_deeply([layers_faults($dir, 'store')],
    ['store/s.c:1: includes "imagebuilder/i.h"'],
    'a fake store/ reaching across: found');
is_deeply([layers_faults($dir, 'imagebuilder')],
    ['imagebuilder/i.c:2: includes "server/a.h"'],
    'a fake imagebuilder/ reaching up by "../": found');
is_deeply([layers_cycle_report($dir)],
    ['cycle: a -> b -> c -> a (modules in the knot: a b c)'],
    'a cycle of three fake modules: found and named');
is_deeply([layers_makefile_faults($dir, layers_makefile_vars($dir))],
    ['server/main.h: in no server library of Makefile.am'],
    'a fake file missing from Makefile.am: found');

$dir = layers_fake_tree(%good,
    'Makefile.am' => $mk . "libasud_lib_a_SOURCES += server/c.h\n",
    'server/a.h' => "#include \"server/a.h\"\n#include \"server/b.h\"\n",
    'server/b.c' => "#include \"server/b.h\"\n",
    'server/b.h' => "#include \"server/a.h\"\n",
    'server/main.c' => "#include \"server/main.h\"\n",
    'server/c.h' => "#include \"server/main.h\"\n",
    'server/main.h' => "#include \"server/c.h\"\n");
is_deeply([layers_cycle_report($dir)],
    ['cycle: a -> b -> a (modules in the knot: a b)',
    'cycle: c -> main -> c (modules in the knot: c main)'],
    'two fake cycles of two, a module including itself: both named');
is_deeply([layers_makefile_faults($dir, layers_makefile_vars($dir))],
    ['server/c.h: in the lib library',
    'server/main.h: in no server library of Makefile.am'],
    'a fake file in the wrong library: found');

# The tree itself.
my $top = shift(@ARGV) // $ENV{ASUD_TOP_SRCDIR} // '.';
ok(-d "$top/server" && -d "$top/lib", "$top holds the sources") or
    BAIL_OUT("$top: no lib/ and server/ here; run from the top of the tree");
layers_check_tree($top, 'the tree');

done_testing();
