#!/usr/bin/env bash
# tests/docs/check-links.sh — the documentation stays self-contained.
#
#   tests/docs/check-links.sh [REPO_DIR] [FILE.md ...]
#
# For README.md, docs/*.md, tests/*/README.md and agents-sim/README.md (or
# the FILEs given, relative to REPO_DIR), fails when:
#   - a relative link ([text](path), [text](path#anchor), [ref]: path) does
#     not reach a file or directory of the repository (tracked by git when
#     REPO_DIR is a git work tree, else present on disk), or leaves it;
#   - an #anchor names no heading of its target file (GitHub's slugs:
#     lower case, punctuation dropped, spaces to '-', "-1", "-2" ... for
#     repeated headings);
#   - a line mentions ../shared, mqtt-clients.md or "design card" (files
#     and notes that are not part of the repository);
#   - a heading is a dated work log: "First session" ... "Tenth session",
#     or a date YYYY-MM-DD.
# Links to http(s)://, mailto: and the like are not followed. Fenced code
# blocks and `inline code` are ignored for links and headings.
# Prints one line per problem (file:line: what) and exits 1 if any; 0 and
# a summary line otherwise. Needs bash, git (optional) and perl.
set -euo pipefail

repo=${1:-$(cd "$(dirname "$0")/../.." && pwd -P)}
shift || true
cd "$repo"

if [ $# -gt 0 ]; then
	files=("$@")
else
	shopt -s nullglob
	files=(README.md docs/*.md tests/*/README.md agents-sim/README.md)
fi

tracked=""
if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	tracked=$(mktemp)
	trap 'rm -f "$tracked"' EXIT
	git ls-files -z --cached >"$tracked"
fi

rc=0
perl -CSDA -e '
use strict;
use warnings;

my ($tracked, @files) = @ARGV;
my (%in_git, %dir_in_git);
if ($tracked ne "") {
	open(my $t, "<:raw", $tracked) or die "$tracked: $!\n";
	local $/ = "\0";
	while (my $f = <$t>) {
		chomp $f;
		utf8::decode($f);
		$in_git{$f} = 1;
		my $d = $f;
		$dir_in_git{$d} = 1 while $d =~ s{/[^/]*$}{};
	}
}

my $problems = 0;
my $links = 0;
sub problem { my ($where, $what) = @_; print "$where: $what\n"; $problems++; }

# Lines of a file with fenced code blocks blanked (line numbers kept).
my %cache;
sub text_lines {
	my ($path) = @_;
	return $cache{$path} if $cache{$path};
	open(my $fh, "<:utf8", $path) or return undef;
	my @lines = <$fh>;
	close $fh;
	my ($fence, @out) = ("");
	for my $l (@lines) {
		chomp $l;
		if ($fence eq "" && $l =~ /^\s{0,3}(`{3,}|~{3,})/) { $fence = substr($1, 0, 1) x length($1); push @out, ""; next; }
		if ($fence ne "") { $fence = "" if $l =~ /^\s{0,3}\Q$fence\E[`~]*\s*$/; push @out, ""; next; }
		push @out, $l;
	}
	return $cache{$path} = \@out;
}

sub slug {
	my ($h) = @_;
	$h =~ s/!?\[([^\]]*)\]\([^)]*\)/$1/g;    # links: their text
	$h =~ s/<[^>]+>//g;                       # inline HTML
	$h = lc $h;
	$h =~ s/[^\p{L}\p{M}\p{N}\p{Pc} -]//g;   # punctuation, symbols
	$h =~ s/ /-/g;
	return $h;
}

my %anchors_of;
sub anchors {
	my ($path) = @_;
	return $anchors_of{$path} if $anchors_of{$path};
	my (%seen, %a);
	my $lines = text_lines($path) or return {};
	for my $l (@$lines) {
		next unless $l =~ /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
		my $s = slug($1);
		my $n = $seen{$s}++;
		$a{$n ? "$s-$n" : $s} = 1;
	}
	return $anchors_of{$path} = \%a;
}

sub exists_in_repo {
	my ($p) = @_;
	return 0 unless -e $p;
	return 1 if $tracked eq "";
	return $in_git{$p} || $dir_in_git{$p} || $p eq ".";
}

sub normalize {
	my ($base, $rel) = @_;
	my @parts = $base eq "." ? () : split m{/}, $base;
	for my $c (split m{/}, $rel) {
		next if $c eq "" || $c eq ".";
		if ($c eq "..") { return undef unless @parts; pop @parts; next; }
		push @parts, $c;
	}
	return @parts ? join("/", @parts) : ".";
}

for my $file (@files) {
	my $lines = text_lines($file);
	unless ($lines) { problem($file, "cannot read"); next; }
	(my $dir = $file) =~ s{/?[^/]*$}{};
	$dir = "." if $dir eq "";
	# Raw lines for the mentions check: code blocks count too.
	open(my $fh, "<:utf8", $file) or die;
	my @raw = <$fh>;
	close $fh;
	for my $i (0 .. $#raw) {
		my $l = $raw[$i];
		problem("$file:" . ($i + 1), "mentions ../shared (not part of the repository)") if $l =~ m{\.\./shared};
		problem("$file:" . ($i + 1), "mentions mqtt-clients.md (not in the repository)") if $l =~ /mqtt-clients\.md/i;
		problem("$file:" . ($i + 1), "mentions a design card (not in the repository)") if $l =~ /design card/i;
	}
	for my $i (0 .. $#$lines) {
		my $where = "$file:" . ($i + 1);
		my $l = $lines->[$i];
		if ($l =~ /^\s{0,3}#{1,6}\s/) {
			problem($where, "dated work-log heading: $l")
			    if $l =~ /\b(First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Tenth)\s+session\b/i
			    || $l =~ /\b\d{4}-\d{2}-\d{2}\b/;
		}
		(my $t = $l) =~ s/(`+)(?:(?!\1).)+?\1//g;    # inline code
		my @targets;
		push @targets, $1 while $t =~ /\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g;
		push @targets, $1 if $t =~ /^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+"[^"]*")?\s*$/;
		for my $target (@targets) {
			next if $target =~ m{^[a-z][a-z0-9+.-]*:}i;    # http:, https:, mailto: ...
			$links++;
			my ($path, $anchor) = split /#/, $target, 2;
			$path =~ s/\?.*//;
			$path =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
			my $resolved;
			if ($path eq "") {
				$resolved = $file;
			} elsif ($path =~ m{^/}) {
				problem($where, "absolute link $target (use a path relative to $file)");
				next;
			} else {
				$resolved = normalize($dir, $path);
				unless (defined $resolved) { problem($where, "link $target leaves the repository"); next; }
				unless (exists_in_repo($resolved)) {
					problem($where, "link $target: $resolved is not in the repository" . (-e $resolved ? " (not tracked by git)" : ""));
					next;
				}
			}
			next unless defined $anchor && $anchor ne "";
			if (-d $resolved) { problem($where, "link $target: an anchor on a directory"); next; }
			unless ($resolved =~ /\.(md|markdown)$/i) { next; }   # line anchors (#L10) of source files
			problem($where, "link $target: no heading \"#$anchor\" in $resolved")
			    unless anchors($resolved)->{lc $anchor};
		}
	}
}
if ($problems) {
	print "check-links: $problems problem(s) in " . scalar(@files) . " file(s)\n";
	exit 1;
}
print "check-links: " . scalar(@files) . " files, $links relative links, all resolve\n";
exit 0;
' "$tracked" "${files[@]}" || rc=$?
exit "$rc"
