#!/usr/bin/perl
# mutant-apply.pl - apply one mutant of tests/mutants/ to a source tree.
#
#   scripts/mutant-apply.pl MUTANT TREE     apply it; print the files changed
#   scripts/mutant-apply.pl -c MUTANT TREE  only check that it applies
#
# A mutant file has header lines "key: value" (rule, test, ...), comment
# lines starting with '#', and hunks:
#
#   file: src/pcp.c
#   @@ find
#   <lines to find>
#   @@ replace
#   <lines to put in their place>
#   @@ end
#
# "file:" names the file of the hunks that follow it (relative to TREE).
# A find text is matched line by line with each line's leading and
# trailing white space ignored, so re-indenting or moving code around it
# does not matter; it must match exactly once in its file (after the
# hunks before it were applied). The matched lines are replaced whole.
#
# Exit: 0 applied (or applies, with -c); 3 a find text matches no line or
# more than once (the mutant no longer applies: message on stderr); 2 bad
# usage or a malformed mutant file.
use strict;
use warnings;

my $check = 0;
if (@ARGV && $ARGV[0] eq '-c') {
	$check = 1;
	shift @ARGV;
}
die "usage: mutant-apply.pl [-c] MUTANT TREE\n" unless @ARGV == 2;
my ($mutant, $tree) = @ARGV;

sub bad { print STDERR "$mutant: $_[0]\n"; exit 2; }

open(my $mf, '<', $mutant) or bad("cannot read: $!");
my (@hunks, $file, $state, @find, @repl);
$state = '';
while (my $line = <$mf>) {
	chomp $line;
	if ($state eq 'find' || $state eq 'replace') {
		if ($line =~ /^\@\@ replace\s*$/ && $state eq 'find') {
			$state = 'replace';
			next;
		}
		if ($line =~ /^\@\@ end\s*$/ && $state eq 'replace') {
			push @hunks, {file => $file, find => [@find], repl => [@repl],
			              line => $.};
			@find = ();
			@repl = ();
			$state = '';
			next;
		}
		bad("line $.: '\@\@' out of place") if $line =~ /^\@\@/;
		if ($state eq 'find') {
			push @find, $line;
		} else {
			push @repl, $line;
		}
		next;
	}
	next if $line =~ /^\s*(#.*)?$/;
	if ($line =~ /^\@\@ find\s*$/) {
		bad("line $.: a hunk before any 'file:' line") unless defined $file;
		$state = 'find';
		next;
	}
	if ($line =~ /^file:\s*(\S+)\s*$/) {
		$file = $1;
		next;
	}
	next if $line =~ /^[a-z][a-z-]*:/; # other header lines
	bad("line $.: not a header, comment or hunk: '$line'");
}
bad("unterminated hunk (no '\@\@ end')") if $state;
bad("no hunks") unless @hunks;

sub trim { my $s = shift; $s =~ s/^\s+|\s+$//g; return $s; }

my %text;   # file -> [lines]
my @order;
for my $h (@hunks) {
	my $f = $h->{file};
	my @want = map { trim($_) } @{$h->{find}};
	bad("hunk ending at line $h->{line}: empty find text") unless grep { $_ ne '' } @want;
	if (!exists $text{$f}) {
		open(my $sf, '<', "$tree/$f") or do {
			print STDERR "$mutant: $f: $!\n";
			exit 3;
		};
		my @l = <$sf>;
		close $sf;
		$text{$f} = \@l;
		push @order, $f;
	}
	my $lines = $text{$f};
	my @at;
	for (my $i = 0; $i + @want <= @$lines; $i++) {
		my $ok = 1;
		for (my $k = 0; $k < @want; $k++) {
			if (trim($lines->[$i + $k]) ne $want[$k]) {
				$ok = 0;
				last;
			}
		}
		push @at, $i if $ok;
	}
	if (@at != 1) {
		printf STDERR "%s: the find text of the hunk ending at line %d matches "
		  . "%d times in %s (must be once):\n", $mutant, $h->{line},
		  scalar @at, $f;
		print STDERR "    $_\n" for @{$h->{find}};
		exit 3;
	}
	splice(@$lines, $at[0], scalar @want, map { "$_\n" } @{$h->{repl}});
}
exit 0 if $check;
for my $f (@order) {
	open(my $out, '>', "$tree/$f") or bad("cannot write $tree/$f: $!");
	print $out @{$text{$f}};
	close $out or bad("cannot write $tree/$f: $!");
	print "$f\n";
}
exit 0;
