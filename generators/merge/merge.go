// Package merge is a line-wise three-way merge, as `git merge-file` does it: the changes
// from base to ours and from base to theirs are combined into one text; where both sides
// change the same lines differently (or lines with none unchanged between them), the
// result holds both, between conflict markers, trimmed to the lines where they differ.
//
// The two line diffs come from github.com/sergi/go-diff (Myers); this package only walks
// them in step, as diff3 does.
package merge

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Labels name the two sides in the conflict markers.
type Labels struct {
	Ours, Theirs string
}

// Marker lines, as git writes them.
const (
	oursMarker   = "<<<<<<< "
	middleMarker = "======="
	theirsMarker = ">>>>>>> "
)

// Result is a merged text and how many conflicts it holds between markers.
type Result struct {
	Data      []byte
	Conflicts int
}

// Mergeable reports whether every text is one a line-wise merge can take: valid UTF-8
// holding no NUL byte (git's test for binary, and more strictly).
func Mergeable(texts ...[]byte) bool {
	for _, t := range texts {
		if bytes.IndexByte(t, 0) >= 0 || !utf8.Valid(t) {
			return false
		}
	}
	return true
}

// HasMarkers reports whether data still holds a conflict: a line starting with
// "<<<<<<< ", later a "=======" line, later one starting with ">>>>>>> ".
func HasMarkers(data []byte) bool {
	stage := 0
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case stage == 0 && strings.HasPrefix(line, oursMarker):
			stage = 1
		case stage == 1 && line == middleMarker:
			stage = 2
		case stage == 2 && strings.HasPrefix(line, theirsMarker):
			return true
		}
	}
	return false
}

// Merge combines the changes from base to ours and from base to theirs, line by line.
// A change on one side only is taken; the same change on both sides is taken once; other
// overlapping changes are a conflict, written between markers labelled by l.
func Merge(base, ours, theirs []byte, l Labels) Result {
	b, a, c := lines(base), lines(ours), lines(theirs)
	ma, mc := matches(b, a), matches(b, c)
	var out strings.Builder
	res := Result{}
	o, i, j := 0, 0, 0
	for o < len(b) || i < len(a) || j < len(c) {
		// Lines unchanged on both sides.
		for o < len(b) && ma[o] == i && mc[o] == j {
			out.WriteString(b[o])
			o, i, j = o+1, i+1, j+1
		}
		// The changed stretch runs to the next base line both sides kept.
		o2 := o
		for o2 < len(b) && (ma[o2] < 0 || mc[o2] < 0) {
			o2++
		}
		i2, j2 := len(a), len(c)
		if o2 < len(b) {
			i2, j2 = ma[o2], mc[o2]
		}
		baseSide, oursSide, theirsSide := b[o:o2], a[i:i2], c[j:j2]
		switch {
		case equal(oursSide, baseSide):
			writeLines(&out, theirsSide)
		case equal(theirsSide, baseSide), equal(oursSide, theirsSide):
			writeLines(&out, oursSide)
		default:
			res.Conflicts++
			conflict(&out, oursSide, theirsSide, l)
		}
		o, i, j = o2, i2, j2
	}
	res.Data = []byte(out.String())
	return res
}

// conflict writes both sides between markers, the lines they share at either end outside
// them (git's zealous merge).
func conflict(out *strings.Builder, ours, theirs []string, l Labels) {
	head := 0
	for head < len(ours) && head < len(theirs) && ours[head] == theirs[head] {
		head++
	}
	tail := 0
	for tail < len(ours)-head && tail < len(theirs)-head && ours[len(ours)-1-tail] == theirs[len(theirs)-1-tail] {
		tail++
	}
	writeLines(out, ours[:head])
	out.WriteString(oursMarker + l.Ours + "\n")
	writeLines(out, ours[head:len(ours)-tail])
	endLine(out)
	out.WriteString(middleMarker + "\n")
	writeLines(out, theirs[head:len(theirs)-tail])
	endLine(out)
	out.WriteString(theirsMarker + l.Theirs + "\n")
	writeLines(out, ours[len(ours)-tail:])
}

// endLine ends out's last line, so a marker starts a line of its own.
func endLine(out *strings.Builder) {
	if s := out.String(); s != "" && !strings.HasSuffix(s, "\n") {
		out.WriteString("\n")
	}
}

func writeLines(out *strings.Builder, ls []string) {
	for _, l := range ls {
		out.WriteString(l)
	}
}

func equal(x, y []string) bool {
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if x[k] != y[k] {
			return false
		}
	}
	return true
}

// lines splits text after each newline; a last line without one is a line too.
func lines(text []byte) []string {
	if len(text) == 0 {
		return nil
	}
	ls := strings.SplitAfter(string(text), "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// matches maps each line of base to the line of other it is kept as in a shortest line
// diff, or -1 for a line other does not keep. The kept lines keep their order.
func matches(base, other []string) []int {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // exact, however long: the files are small
	r1, r2, _ := dmp.DiffLinesToRunes(strings.Join(base, ""), strings.Join(other, ""))
	m := make([]int, len(base))
	bi, oi := 0, 0
	for _, d := range dmp.DiffMainRunes(r1, r2, false) {
		n := utf8.RuneCountInString(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			for k := 0; k < n; k++ {
				m[bi+k] = oi + k
			}
			bi, oi = bi+n, oi+n
		case diffmatchpatch.DiffDelete:
			for k := 0; k < n; k++ {
				m[bi+k] = -1
			}
			bi += n
		case diffmatchpatch.DiffInsert:
			oi += n
		}
	}
	return m
}
