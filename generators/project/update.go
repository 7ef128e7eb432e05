package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// UpdateEntry is one file's fate.
type UpdateEntry struct {
	Path   string
	Action state.Change
	// Markers means the file holds conflict markers: written so (a Conflict merged against
	// its base), or still so (Unresolved). A Conflict or Unresolved without them has its
	// scaffold version beside it as FILE.scaffold-new.
	Markers bool
	// Diff is, for a merged file, the unified diff from the file on disk to the merge.
	Diff string
}

// UpdateResult says what `scaffold update` did (or, dry, would do).
type UpdateResult struct {
	From, To string // scaffold versions
	Entries  []UpdateEntry
	// NoBases means the project kept no merge bases (BaseDir) yet: a conflict was set
	// aside whole (FILE.scaffold-new), and this update stores them for the next one.
	NoBases bool
	// Conflicts counts the files this update left in conflict; Unresolved those an
	// earlier one left that are not resolved yet.
	Conflicts, Unresolved int
}

// mergeOrHold finishes p's classification for update: an earlier conflict still open in
// it makes it Unresolved; a Conflict is merged against its base when the project keeps
// bases (mergeConflict). It returns p's report entry.
func mergeOrHold(dir, version string, p *state.Planned, m *state.Manifest, bases bool) (UpdateEntry, error) {
	if held, markers, err := state.HoldOpen(dir, p); err != nil || held {
		return UpdateEntry{Path: p.Path, Action: state.Unresolved, Markers: markers}, err
	}
	if p.Change == state.Conflict && bases && hasBase(p.Path) {
		if err := mergeConflict(dir, version, p, m.Files[p.Path]); err != nil {
			return UpdateEntry{}, err
		}
	}
	e := UpdateEntry{Path: p.Path, Action: p.Change, Markers: p.Change == state.Conflict && p.Merged != nil}
	if p.Merged != nil {
		e.Diff = string(diff.Diff("a/"+p.Path, p.Old, "b/"+p.Path, p.Merged))
	}
	return e, nil
}

// PlanUpdate is the project's part of `scaffold update` (generators/pipeline.Update): it
// re-renders the project in dir from the answers in its scaffold.yaml with this scaffold
// (version) and plans bringing it up to date without losing an edit (state.Classify,
// merged against the bases). Files the user added are never touched; a file scaffold no
// longer generates goes when unedited and stays when edited (state.ClassifyOrphan,
// vendor's rule too). It returns what the update does and the set one commit writes into
// dir, scaffold.yaml included (the new version, the new render's checksums); nothing is
// written.
func PlanUpdate(dir, version string) (*UpdateResult, *generators.FileSet, error) {
	m, err := state.LoadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	folders, err := handRemoved(dir, m)
	if err != nil {
		return nil, nil, err
	}
	ctx, err := Generate(OptionsOf(m, version))
	if err != nil {
		return nil, nil, fmt.Errorf("re-rendering from %s: %w", state.ManifestFile, err)
	}
	res := &UpdateResult{From: m.ScaffoldVersion, To: version}
	for _, folder := range folders {
		res.Entries = append(res.Entries, UpdateEntry{Path: folder + "/", Action: state.Removed})
	}
	// A file scaffold wrote, still generated, that the user deleted stays deleted: reported
	// once, then recorded under removed: (but see regenerated).
	for _, f := range ctx.Files.Files() {
		if _, recorded := m.Files[f.Path]; !recorded || f.Path == state.ManifestFile || regenerated(f.Path) {
			continue
		}
		gone, err := missing(dir, f.Path)
		if err != nil {
			return nil, nil, err
		}
		if gone {
			ctx.Files.Drop(f.Path)
			ctx.Manifest.Remove(f.Path)
			res.Entries = append(res.Entries, UpdateEntry{Path: f.Path, Action: state.Removed})
		}
	}
	plan, err := state.PlanAgainst(ctx.Files, dir, m.Files)
	if err != nil {
		return nil, nil, err
	}
	plan = slices.DeleteFunc(plan, func(p state.Planned) bool { return p.Path == state.ManifestFile })
	bases, err := hasBases(dir)
	if err != nil {
		return nil, nil, err
	}
	res.NoBases = !bases
	nextBases := map[string][]byte{} // path -> the base this update leaves
	for k := range plan {
		p := &plan[k]
		entry, err := mergeOrHold(dir, version, p, m, bases)
		if err != nil {
			return nil, nil, err
		}
		switch p.Change {
		case state.Conflict:
			res.Conflicts++
		case state.Unresolved:
			res.Unresolved++
			// Left alone, with the record and base it had: the update after its
			// resolution merges from them.
			if sum, ok := m.Files[p.Path]; ok {
				ctx.Manifest.Files[p.Path] = sum
				if base, err := readBase(dir, p.Path, sum); err == nil && base != nil {
					nextBases[p.Path] = base
				}
			}
			res.Entries = append(res.Entries, entry)
			continue
		}
		if hasBase(p.Path) {
			nextBases[p.Path] = p.New
		}
		res.Entries = append(res.Entries, entry)
	}
	set, err := state.Stage(plan, state.SetAsideEdited)
	if err != nil {
		return nil, nil, err
	}
	if err := stageBases(set, dir, nextBases); err != nil {
		return nil, nil, err
	}
	for p, recorded := range m.Files {
		if _, still := ctx.Files.Get(p); still {
			continue
		}
		if _, derived := m.DerivedFrom[p]; derived {
			continue // deploy-config's, not the templates': see KeepDerived
		}
		disk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		fate := state.ClassifyOrphan(recorded, disk, state.SetAsideEdited)
		if fate == state.Delete {
			set.Remove(p)
		}
		res.Entries = append(res.Entries, UpdateEntry{Path: p, Action: fate})
	}
	sort.Slice(res.Entries, func(i, j int) bool { return res.Entries[i].Path < res.Entries[j].Path })
	// The rendered manifest already records the new version and the new render's
	// checksums, which is what the next update must compare against, conflicts included;
	// deploy-config's record stays as it was.
	ctx.Manifest.KeepDerived(m)
	manifest, err := ctx.Manifest.Marshal()
	if err != nil {
		return nil, nil, err
	}
	set.Add(state.ManifestFile, manifest, 0o644)
	return res, set, nil
}
