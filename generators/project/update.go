package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/scaffoldgo/scaffold/generators"
)

// ConflictSuffix names the file beside a user-edited one that holds scaffold's new version,
// like dpkg's .dpkg-dist.
const ConflictSuffix = ".scaffold-new"

// UpdateAction says what `scaffold update` does with one file.
type UpdateAction string

// The kinds of UpdateAction.
const (
	UpdateCreate    UpdateAction = "create"    // missing in the project: written
	UpdateUnchanged UpdateAction = "unchanged" // already scaffold's new version
	UpdateOverwrite UpdateAction = "update"    // untouched by the user, template changed: rewritten
	UpdateConflict  UpdateAction = "conflict"  // both changed: kept, new version in FILE.scaffold-new
	UpdateKept      UpdateAction = "kept"      // edited by the user, template unchanged: kept
	UpdateOrphan    UpdateAction = "orphan"    // no longer generated, unedited: left in place
)

// UpdateEntry is one file's fate.
type UpdateEntry struct {
	Path   string
	Action UpdateAction
}

// UpdateResult says what Update did (or, dry, would do).
type UpdateResult struct {
	From, To string // scaffold versions
	Entries  []UpdateEntry
	// NoChecksums means scaffold.yaml predates the files map: every file that differs
	// from the new render was treated as edited by the user.
	NoChecksums bool
	Conflicts   int
}

// Classify decides one file's fate, dpkg-conffile style. exists and disk are the file
// on disk; recorded is the checksum scaffold.yaml holds for it ("" when none, which
// counts as edited by the user: the safe default); render is the new version.
func Classify(exists bool, disk []byte, recorded string, render []byte) UpdateAction {
	switch {
	case !exists:
		return UpdateCreate
	case bytes.Equal(disk, render):
		return UpdateUnchanged
	case recorded != "" && FileChecksum(disk) == recorded:
		return UpdateOverwrite
	case recorded != "" && FileChecksum(render) == recorded:
		return UpdateKept
	default:
		return UpdateConflict
	}
}

// Update re-renders the project in dir from the answers in its scaffold.yaml with this
// scaffold (version) and brings it up to date without losing an edit: see Classify.
// Files the user added are never touched and files scaffold no longer generates are
// never deleted. scaffold.yaml is rewritten with the new version and the new render's
// checksums. All writes go in one atomic commit; dryRun writes nothing.
func Update(dir, version string, dryRun bool) (*UpdateResult, error) {
	res, set, err := PlanUpdate(dir, version)
	if err != nil || dryRun {
		return res, err
	}
	if err := set.Commit(dir, true); err != nil {
		return nil, err
	}
	return res, nil
}

// PlanUpdate is Update without the commit: what it would do, and the set it would commit
// into dir (scaffold.yaml included), for a caller that adds files to the same commit.
func PlanUpdate(dir, version string) (*UpdateResult, *generators.FileSet, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	ctx, err := Generate(Options{Name: m.Name, Module: m.Module, Port: m.Answers.Port, Workers: m.Answers.Workers, Version: version})
	if err != nil {
		return nil, nil, fmt.Errorf("re-rendering from %s: %w", ManifestFile, err)
	}
	res := &UpdateResult{From: m.ScaffoldVersion, To: version, NoChecksums: m.Files == nil}
	set := generators.NewFileSet()
	for _, f := range ctx.Files.Files() {
		if f.Path == ManifestFile {
			continue
		}
		disk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		action := Classify(exists, disk, m.Files[f.Path], f.Data)
		switch action {
		case UpdateCreate, UpdateOverwrite:
			set.Add(f.Path, f.Data, f.Mode)
		case UpdateConflict:
			set.Add(f.Path+ConflictSuffix, f.Data, f.Mode)
			res.Conflicts++
		}
		res.Entries = append(res.Entries, UpdateEntry{Path: f.Path, Action: action})
	}
	for p, recorded := range m.Files {
		if _, still := ctx.Files.Get(p); still {
			continue
		}
		// Only an unedited file is reported: an edited one is the user's now.
		if disk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))); err == nil && FileChecksum(disk) == recorded {
			res.Entries = append(res.Entries, UpdateEntry{Path: p, Action: UpdateOrphan})
		}
	}
	sort.Slice(res.Entries, func(i, j int) bool { return res.Entries[i].Path < res.Entries[j].Path })
	// The rendered manifest already records the new version and the new render's
	// checksums, which is what the next update must compare against, conflicts included.
	manifest, _ := ctx.Files.Get(ManifestFile)
	set.Add(ManifestFile, manifest.Data, manifest.Mode)
	return res, set, nil
}
