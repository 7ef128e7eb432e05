package state

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/scaffoldgo/scaffold/generators"
)

// One folder holding a file of each fate, planned against the record of what scaffold
// wrote there before.
func TestPlanAgainst(t *testing.T) {
	dir := t.TempDir()
	for p, data := range map[string]string{"same": "v2\n", "unedited": "v1\n", "edited-same": "mine\n", "edited-changed": "mine\n", "unrecorded": "theirs\n"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set := generators.NewFileSet()
	for _, p := range []string{"new", "same", "unedited", "edited-changed", "unrecorded"} {
		set.Add(p, []byte("v2\n"), 0)
	}
	set.Add("edited-same", []byte("v1\n"), 0)
	v1 := FileChecksum([]byte("v1\n"))
	plan, err := PlanAgainst(set, dir, map[string]string{"same": v1, "unedited": v1, "edited-same": v1, "edited-changed": v1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Change{}
	for _, p := range plan {
		got[p.Path] = p.Change
	}
	want := map[string]Change{"new": Create, "same": Unchanged, "unedited": Overwrite, "edited-same": Kept, "edited-changed": Conflict, "unrecorded": Conflict}
	for p, c := range want {
		if got[p] != c {
			t.Errorf("%s: %s, want %s", p, got[p], c)
		}
	}

	for _, tc := range []struct {
		policy EditPolicy
		paths  []string
		err    []string
	}{
		{SetAsideEdited, []string{"edited-changed" + ConflictSuffix, "new", "unedited", "unrecorded" + ConflictSuffix}, nil},
		{OverwriteEdited, []string{"edited-changed", "edited-same", "new", "unedited", "unrecorded"}, nil},
		{RefuseEdited, nil, []string{"edited-changed", "unrecorded"}},
	} {
		staged, err := Stage(plan, tc.policy)
		var conflict *ConflictError
		if tc.err != nil {
			if !errors.As(err, &conflict) || !slices.Equal(conflict.Paths, tc.err) || staged != nil {
				t.Errorf("policy %d: err %v, want a ConflictError for %v and no set", tc.policy, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range staged.Files() {
			paths = append(paths, f.Path)
		}
		if !slices.Equal(paths, tc.paths) {
			t.Errorf("policy %d stages %v, want %v", tc.policy, paths, tc.paths)
		}
	}
}

func TestClassify(t *testing.T) {
	older, newer, mine := []byte("old template\n"), []byte("new template\n"), []byte("user edit\n")
	for _, tc := range []struct {
		name     string
		exists   bool
		disk     []byte
		recorded string
		render   []byte
		want     Change
	}{
		{"missing", false, nil, FileChecksum(older), newer, Create},
		{"equal to the new render", true, newer, FileChecksum(older), newer, Unchanged},
		{"unedited, template changed", true, older, FileChecksum(older), newer, Overwrite},
		{"edited, template changed", true, mine, FileChecksum(older), newer, Conflict},
		{"edited, template unchanged", true, mine, FileChecksum(newer), newer, Kept},
		{"no record, differs", true, older, "", newer, Conflict},
		{"no record, equal", true, newer, "", newer, Unchanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.exists, tc.disk, tc.recorded, tc.render); got != tc.want {
				t.Errorf("Classify = %s, want %s", got, tc.want)
			}
		})
	}
}

// The one orphan rule: an unedited orphan goes, an edited one stays (the user's), a file
// with no record counts as edited, and --force's policy takes even an edited one.
func TestClassifyOrphan(t *testing.T) {
	v1 := FileChecksum([]byte("v1\n"))
	for _, c := range []struct {
		recorded string
		disk     string
		policy   EditPolicy
		want     Change
	}{
		{v1, "v1\n", SetAsideEdited, Delete},
		{v1, "mine\n", SetAsideEdited, Orphan},
		{"", "v1\n", SetAsideEdited, Orphan},
		{v1, "mine\n", RefuseEdited, Orphan},
		{v1, "mine\n", OverwriteEdited, Delete},
	} {
		if got := ClassifyOrphan(c.recorded, []byte(c.disk), c.policy); got != c.want {
			t.Errorf("ClassifyOrphan(%.12q, %q, %d) = %s, want %s", c.recorded, c.disk, c.policy, got, c.want)
		}
	}
}
