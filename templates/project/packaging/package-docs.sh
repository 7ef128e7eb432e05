#!/bin/sh
# The packages' generated documents, for goreleaser's nfpm section (a before hook runs it,
# from the repository's root, in a git checkout):
#   OUT/NAME.1.gz       the manual page, section 1: the program's --help as preformatted text
#   OUT/copyright       Debian's machine-readable copyright file: the maintainer, the year of
#                       the release's commit, and LICENSE's text (or "All rights reserved.")
#   OUT/changelog.yml   the release's entry in nfpm's changelog format, the commits since the
#                       previous tag: nfpm writes it as the .deb's changelog.Debian.gz and the
#                       .rpm's %changelog
# Usage: sh package-docs.sh NAME MAIN SUMMARY VERSION MAINTAINER LICENSE OUT
#   MAIN is the program's Go package (./wsgi), SUMMARY the manual's one-line description,
#   VERSION goreleaser's, MAINTAINER "Name <email>", LICENSE an SPDX identifier.
# Written by scaffold; scaffold's own packages are made by the same script.
set -eu

if [ "$#" -ne 7 ]; then
	echo "usage: sh package-docs.sh NAME MAIN SUMMARY VERSION MAINTAINER LICENSE OUT" >&2
	exit 2
fi
name=$1 main=$2 summary=$3 version=$4 maintainer=$5 license=$6 out=$7
mkdir -p "$out"

# The commit's date, not today's, so two builds of one commit give the same bytes.
date=$(git log -1 --format=%cI)
year=${date%%-*}

go run "$main" --help >"$out/help.txt"
{
	printf '.TH %s 1 "%s" "%s %s" "User Commands"\n' "$(echo "$name" | tr '[:lower:]' '[:upper:]')" "${date%%T*}" "$name" "$version"
	printf '.SH NAME\n%s \\- %s\n.SH DESCRIPTION\n.nf\n' "$name" "$summary"
	# roff: a backslash is \e, a minus \-; a line starting with . or ' is text, not a request.
	sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" "$out/help.txt"
	printf '.fi\n'
} >"$out/$name.1"
rm "$out/help.txt"
gzip -9nf "$out/$name.1"

{
	printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
	printf 'Upstream-Name: %s\nUpstream-Contact: %s\n\n' "$name" "$maintainer"
	printf 'Files: *\nCopyright: %s %s\nLicense: %s\n' "$year" "$maintainer" "$license"
	if [ -f LICENSE ]; then
		# A continuation line starts with a space; an empty one is " .".
		sed -e 's/^[[:space:]]*$/./' -e 's/^/ /' LICENSE
	else
		printf ' All rights reserved.\n'
	fi
} >"$out/copyright"

# A release's packages are version-1 (nfpm's release: "1"), and its entry says so, as rpm
# and dpkg compare them; a snapshot's prerelease (X.Y.Z-next) has no such entry in nfpm's
# format (it writes "-next" where the package says "~next").
entry=$version
case "$version" in *-*) ;; *) entry=$version-1 ;; esac
# YAML single-quoted scalars: a quote is doubled.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
# A note is a YAML double-quoted scalar, the subject folded to fit Debian's 80 columns:
# each further line becomes a "- " line under the first.
note() {
	printf '%s\n' "$1" | fold -s -w 72 | sed -e 's/[[:space:]]*$//' -e 's/\\/\\\\/g' -e 's/"/\\"/g' |
		awk 'NR > 1 { printf "\\n" } { printf "%s", $0 } END { print "" }' | sed 's/^/"/; s/$/"/'
}
previous=$(git describe --tags --abbrev=0 HEAD^ 2>/dev/null || true)
{
	printf -- '- semver: %s\n  date: %s\n  packager: %s\n' "$entry" "$date" "$(quote "$maintainer")"
	printf '  deb:\n    urgency: medium\n    distributions: [unstable]\n  changes:\n'
	git log --no-merges --format='%H %s' ${previous:+"$previous..HEAD"} | while read -r commit subject; do
		printf '    - commit: %s\n      note: %s\n' "$commit" "$(note "$subject")"
	done
} >"$out/changelog.yml"
