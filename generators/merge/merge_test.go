package merge

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var labels = Labels{Ours: "yours", Theirs: "scaffold v2"}

func TestMerge(t *testing.T) {
	const base = "a\nb\nc\nd\ne\nf\ng\n"
	for _, tc := range []struct {
		name, ours, theirs, want string
		conflicts                int
	}{
		{"nothing changed", base, base, base, 0},
		{"ours only", "a\nB\nc\nd\ne\nf\ng\n", base, "a\nB\nc\nd\ne\nf\ng\n", 0},
		{"theirs only", base, "a\nb\nc\nd\ne\nF\ng\n", "a\nb\nc\nd\ne\nF\ng\n", 0},
		{"apart", "a\nB\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\ne\nF\ng\n", "a\nB\nc\nd\ne\nF\ng\n", 0},
		{"the same change", "a\nB\nc\nd\ne\nf\ng\n", "a\nB\nc\nd\ne\nf\ng\n", "a\nB\nc\nd\ne\nf\ng\n", 0},
		{"insert and delete apart", "x\na\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\ne\nf\n", "x\na\nb\nc\nd\ne\nf\n", 0},
		{"same line differently", "a\nb\nc\nMINE\ne\nf\ng\n", "a\nb\nc\nTHEIRS\ne\nf\ng\n",
			"a\nb\nc\n<<<<<<< yours\nMINE\n=======\nTHEIRS\n>>>>>>> scaffold v2\ne\nf\ng\n", 1},
		{"adjacent lines conflict, as in git", "a\nb\nC\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n",
			"a\nb\n<<<<<<< yours\nC\nd\n=======\nc\nD\n>>>>>>> scaffold v2\ne\nf\ng\n", 1},
		{"shared ends trimmed out of the markers", "a\nb\nX\nY1\nZ\nf\ng\n", "a\nb\nX\nY2\nZ\nf\ng\n",
			"a\nb\nX\n<<<<<<< yours\nY1\n=======\nY2\n>>>>>>> scaffold v2\nZ\nf\ng\n", 1},
		{"two conflicts", "A1\nb\nc\nd\ne\nf\nG1\n", "A2\nb\nc\nd\ne\nf\nG2\n",
			"<<<<<<< yours\nA1\n=======\nA2\n>>>>>>> scaffold v2\nb\nc\nd\ne\nf\n<<<<<<< yours\nG1\n=======\nG2\n>>>>>>> scaffold v2\n", 2},
		{"no final newline", "a\nb\nc\nd\ne\nf\nmine", "a\nb\nc\nd\ne\nf\ntheirs",
			"a\nb\nc\nd\ne\nf\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> scaffold v2\n", 1},
		{"both append differently", base + "mine\n", base + "theirs\n",
			base + "<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> scaffold v2\n", 1},
		{"empty base", "mine\n", "mine\n", "mine\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := base
			if tc.name == "empty base" {
				b = ""
			}
			got := Merge([]byte(b), []byte(tc.ours), []byte(tc.theirs), labels)
			if string(got.Data) != tc.want || got.Conflicts != tc.conflicts {
				t.Errorf("Merge =\n%s(%d conflicts), want\n%s(%d)", got.Data, got.Conflicts, tc.want, tc.conflicts)
			}
			if HasMarkers(got.Data) != (tc.conflicts > 0) {
				t.Errorf("HasMarkers = %v with %d conflicts", HasMarkers(got.Data), tc.conflicts)
			}
			gitAgrees(t, b, tc.ours, tc.theirs, string(got.Data))
		})
	}
}

// gitAgrees checks the merge against `git merge-file -p`, the model, where git is here.
func gitAgrees(t *testing.T, base, ours, theirs, got string) {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		return // the table's expectations stand on their own
	}
	dir := t.TempDir()
	for name, data := range map[string]string{"base": base, "ours": ours, "theirs": theirs} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(git, "merge-file", "-p", "-L", labels.Ours, "-L", "base", "-L", labels.Theirs, "ours", "base", "theirs")
	cmd.Dir = dir
	out, _ := cmd.Output() // exit status is the number of conflicts
	if string(out) != got {
		t.Errorf("git merge-file -p gives\n%s", out)
	}
}

func TestMergeable(t *testing.T) {
	if !Mergeable([]byte("text\n"), nil) || Mergeable([]byte("a\x00b")) || Mergeable([]byte{0xff, 0xfe}) {
		t.Error("Mergeable: text is mergeable, NUL bytes and invalid UTF-8 are not")
	}
}

func TestHasMarkers(t *testing.T) {
	for data, want := range map[string]bool{
		"<<<<<<< yours\na\n=======\nb\n>>>>>>> scaffold\n": true,
		"<<<<<<< yours\na\n=======\nb\n":                   false,
		"// ======= not a marker\n":                        false,
		"=======\n>>>>>>> x\n<<<<<<< y\n":                  false,
	} {
		if got := HasMarkers([]byte(data)); got != want {
			t.Errorf("HasMarkers(%q) = %v", data, got)
		}
	}
}
