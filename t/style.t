# The house style of the C sources, file by file: a comment at the top
# (saying what the file is for); at most 999 lines; indentation by tabs
# (code: tabs, then at most the four spaces of a continuation line; a
# line inside a comment begins with a tab or " *"); no trailing
# whitespace; at most 80 columns, tabs counted to 8; no // comments; and
# a comment ending on the line directly above every function definition
# (above its return type line, or above its first line when the return
# type shares it). One check per file and rule; the diagnostics name
# file:line. The rules are first run on samples with and without faults
# of their kind, so that each is known to find what it looks for.
#
# Usage: perl t/style.t [FILE...]   (default: every .c and .h file git
# knows of in $ASUD_TOP_SRCDIR, else .; without git, those under lib/
# store/ imagebuilder/ server/ t/unit/ t/fuzz/)
use strict;
use warnings;
use Test::More;
use File::Find;

# Most diagnostics printed per file and rule.
my $style_diag_max = 10;

# Returns the lines of the C text TEXT as records: text (without the
# newline), incomment (the line begins inside a comment) and slashes
# (a // comment begins on it, outside strings and comments).
sub style_scan {
	my ($text) = @_;
	my @lines;
	my $state = 'code';

	for my $line (split(/\n/, $text, -1)) {
		my $rec = { text => $line, incomment => $state eq 'comment',
		    slashes => 0 };
		pos($line) = 0;
		while (pos($line) < length($line)) {
			if ($state eq 'comment') {
				if ($line =~ m{\G.*?\*/}gc) {
					$state = 'code';
				} else {
					last;
				}
			} elsif ($line =~ m{\G/\*}gc) {
				$state = 'comment';
			} elsif ($line =~ m{\G//}gc) {
				$rec->{slashes} = 1;
				last;
			} elsif ($line =~ m{\G"(?:[^"\\]|\\.)*("|\\?\z)}gc ||
			    $line =~ m{\G'(?:[^'\\]|\\.)*('|\z)}gc ||
			    $line =~ m{\G[^/"']+}gc || $line =~ m{\G.}gc) {
				next;
			}
		}
		push @lines, $rec;
	}
	pop @lines if @lines && $lines[-1]{text} eq '';
	return \@lines;
}

# Returns the line numbers of LINES whose indentation is not tabs: code
# is indented by tabs then at most the four spaces of a continuation
# line; a line inside a comment begins with a tab, or with " *" (the
# text of a comment continued after a tab may be aligned as it likes).
sub style_indent {
	my ($lines) = @_;
	my @bad;

	for my $i (0 .. $#$lines) {
		my $l = $lines->[$i];
		my ($lead) = $l->{text} =~ /^([ \t]*)/;
		next if $lead eq '' || $lead eq $l->{text};
		if ($l->{incomment}) {
			next if $l->{text} =~ /^(?:\t| \*)/;
		} else {
			next if $lead =~ /^\t*(?: {4})?\z/;
		}
		push @bad, $i + 1;
	}
	return @bad;
}

# Returns the line numbers of LINES ending in a blank or a tab.
sub style_trailing {
	my ($lines) = @_;

	return map { $_ + 1 } grep { $lines->[$_]{text} =~ /[ \t\r]\z/ }
	    0 .. $#$lines;
}

# Returns the width of LINE in columns, tabs counted to the next
# multiple of 8.
sub style_width_of {
	my ($line) = @_;
	my $col = 0;

	utf8::decode($line);
	for my $c (split(//, $line)) {
		$col = $c eq "\t" ? ($col + 8) & ~7 : $col + 1;
	}
	return $col;
}

# Returns the line numbers of LINES wider than 80 columns.
sub style_width {
	my ($lines) = @_;

	return map { $_ + 1 }
	    grep { style_width_of($lines->[$_]{text}) > 80 } 0 .. $#$lines;
}

# Returns the line numbers of LINES with a // comment.
sub style_slashes {
	my ($lines) = @_;

	return map { $_ + 1 } grep { $lines->[$_]{slashes} } 0 .. $#$lines;
}

# Returns the line numbers of the function definitions of LINES without
# a comment ending directly above them. A definition is a "{" alone at
# column 0 after its header: a line holding "(" at column 0 and the
# indented lines of its arguments; the return type is the line above
# the header when the header begins with the function's name.
sub style_fncomment {
	my ($lines) = @_;
	my @bad;

	for my $i (0 .. $#$lines) {
		next unless $lines->[$i]{text} =~ /^\{\s*\z/ &&
		    !$lines->[$i]{incomment};
		my $h = $i - 1;
		$h-- while $h >= 0 && $lines->[$h]{text} =~ /^\s/;
		next if $h < 0 || $lines->[$h]{text} !~ /^[A-Za-z_].*\(/;
		my $first = $h;
		$first-- if $h > 0 &&
		    $lines->[$h]{text} =~ /^[A-Za-z_]\w*\s*\(/ &&
		    $lines->[$h - 1]{text} =~ /^[A-Za-z_]/;
		next if $first > 0 &&
		    $lines->[$first - 1]{text} =~ m{\*/\s*\z};
		push @bad, $first + 1;
	}
	return @bad;
}

# Returns [1] when LINES do not begin with a comment (saying what the
# file is for).
sub style_top {
	my ($lines) = @_;

	return @$lines && $lines->[0]{text} =~ m{^/\*} ? () : (1);
}

# Returns [1000] when LINES are more than 999.
sub style_length {
	my ($lines) = @_;

	return @$lines > 999 ? (1000) : ();
}

# The rules: a name, the check, and what a diagnostic says of a line.
my @style_rules = (
	['a comment at the top', \&style_top, 'no comment at the top'],
	['at most 999 lines', \&style_length, 'past line 999'],
	['indentation by tabs', \&style_indent, 'indented by spaces'],
	['no trailing whitespace', \&style_trailing, 'trailing whitespace'],
	['at most 80 columns', \&style_width, 'wider than 80 columns'],
	['no // comments', \&style_slashes, 'a // comment'],
	['a comment above every function', \&style_fncomment,
	    'a function without a comment above it'],
);

# Returns the files to check under TOP: the .c and .h files git knows of
# (tracked, or new and not ignored) that exist, else those of the source
# directories.
sub style_files {
	my ($top) = @_;
	my @dirs = qw(lib store imagebuilder server t/unit t/fuzz);
	my @files;

	if (-e "$top/.git" && open(my $git, '-|', 'git', '-C', $top,
	    'ls-files', '--cached', '--others', '--exclude-standard', '--',
	    '*.c', '*.h')) {
		my %seen;
		@files = grep { -f "$top/$_" && !$seen{$_}++ }
		    map { chomp; $_ } <$git>;
		return sort @files if close($git);
	}
	find({ no_chdir => 1, wanted => sub {
		push @files, substr($_, length($top) + 1)
		    if /\.[ch]\z/ && -f $_;
	} }, grep { -d } map { "$top/$_" } @dirs);
	return sort @files;
}

# Returns the lines of FILE, scanned.
sub style_read {
	my ($file) = @_;
	local $/;

	open(my $fh, '<', $file) or die "$file: $!";
	my $text = <$fh>;
	close($fh);
	return style_scan($text);
}

# The rules themselves, on a sample with one fault of each and on one
# without.
my $good = <<'EOF';
/*
 * good.c: a sample in the house style.
 */
#include <stdio.h>

#define GOOD_URL	"http://example.org/" /* a URL: http://x */

struct good {
	int	 a;	/* a comment continued, aligned
			   by tabs then spaces */
};

int	good_proto(int,
	    int);

/* Returns one more than a, for "//" and '/'. */
static int
good_next(int a,
    int b)
{
	const char	*s = "// not a comment";

	if (a > b &&
	    b > 0)
		return (a + 1 + (s[0] == '/'));
	/*
	 * A comment over
	 * lines.
	 */
	return (0);
}

/* One line. */
int good_flat(void)
{
	return (1);
}
EOF
my $bad = <<'EOF';
/* bad.c: one fault of each kind. */
static int
bad_next(int a)
{
  return (a); 
	// a comment
	return (a + 1); /* a long line, longer than eighty columns, is wrong here */
}

int
bad_flat(void)
{
	return (1);
}
/* Not directly above. */

int bad_other(void)
{
	return (2);
}
/* A comment
   continued by spaces. */
struct bad {
	int	 a;	/* aligned
			   by tabs, then spaces: good */
	int	 b[2 +
	      1];
};
EOF
my @want = ([["int a;\n", $good], [1]], [["x;\n" x 1000, $good], [1000]],
    [$bad, [5, 22, 27]], [$bad, [5]], [$bad, [7]], [$bad, [6]],
    [$bad, [10, 17]]);
for my $r (0 .. $#style_rules) {
	my ($name, $rule) = @{$style_rules[$r]};
	my ($sample, $lines) = @{$want[$r]};
	my ($worse, $better) = ref($sample) ? @$sample : ($sample, $good);
	is_deeply([$rule->(style_scan($better))], [], "rule '$name': a " .
	    'good sample passes');
	is_deeply([$rule->(style_scan($worse))], $lines, "rule '$name': " .
	    'finds the faults of a bad sample');
}

# The tree, or the files named.
my $top = $ENV{ASUD_TOP_SRCDIR} // '.';
my @files = @ARGV ? @ARGV : style_files($top);
my $base = @ARGV ? '' : "$top/";
ok(@files, 'files to check: ' . scalar(@files)) or
    BAIL_OUT("no C sources under $top; run from the top of the tree");
for my $file (@files) {
	my $lines = style_read("$base$file");
	for my $r (@style_rules) {
		my ($name, $rule, $what) = @$r;
		my @bad = $rule->($lines);
		ok(!@bad, "$file: $name");
		diag("$file:$_: $what") for grep { defined }
		    @bad[0 .. $style_diag_max - 1];
		diag("$file: and " . (@bad - $style_diag_max) . ' more')
		    if @bad > $style_diag_max;
	}
}

done_testing();
