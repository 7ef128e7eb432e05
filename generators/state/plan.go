package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scaffoldgo/scaffold/generators"
)

// Change is one file's state against the folder and the record, and so what writing it
// does: the one set of names every command reports in (new, update, vendor, add and
// remove module, deploy-config).
type Change string

// The kinds of Change. Create, Overwrite and Unchanged need no record; the others do.
const (
	Create    Change = "create"    // missing: written
	Overwrite Change = "overwrite" // unedited since scaffold wrote it (or, without a record, --force), different now: rewritten
	Unchanged Change = "unchanged" // already what scaffold writes
	Delete    Change = "delete"    // a file scaffold takes away (FileSet.Remove): `scaffold remove module`, an unedited orphan
	Kept      Change = "kept"      // edited since scaffold wrote it, scaffold's version the same: the edit stays
	Conflict  Change = "conflict"  // edited since scaffold wrote it, scaffold's version changed: the EditPolicy decides (update: merged, see Merged)
	Orphan    Change = "orphan"    // recorded, no longer generated, edited since: the user's now, left in place (ClassifyOrphan; unedited it is a Delete)
	Removed   Change = "removed"   // recorded, still generated, deleted by the user: stays deleted (dpkg's removed conffile)
	// With a base (what scaffold last wrote) a Conflict is merged line-wise (Planned.Merged):
	Merged     Change = "merged"     // both changed, different lines: the two combined in place
	Unresolved Change = "unresolved" // an earlier conflict not resolved yet (markers or FILE.scaffold-new still there): left alone
)

// ConflictSuffix names the file beside a user-edited one that holds scaffold's new version,
// like dpkg's .dpkg-dist.
const ConflictSuffix = ".scaffold-new"

// FileChecksum is the digest of one file's content as records keep it: "sha256:<hex>".
func FileChecksum(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Classify decides one file's fate, dpkg-conffile style. exists and disk are the file on
// disk; recorded is the checksum of what scaffold last wrote there ("" when none, which
// counts as edited by the user: the safe default); render is the new version.
func Classify(exists bool, disk []byte, recorded string, render []byte) Change {
	switch {
	case !exists:
		return Create
	case bytes.Equal(disk, render):
		return Unchanged
	case recorded != "" && FileChecksum(disk) == recorded:
		return Overwrite
	case recorded != "" && FileChecksum(render) == recorded:
		return Kept
	default:
		return Conflict
	}
}

// Planned is one file of a plan: its path, what writing it does, the content on disk
// (nil when missing) and the content to write.
type Planned struct {
	Path     string
	Change   Change
	Old, New []byte
	Mode     fs.FileMode
	// Merged is the three-way merge of Old and New when one was made (a Merged file, or a
	// Conflict written in place with conflict markers): what Stage writes at Path.
	Merged []byte
}

// PlanAgainst classifies each file of s against target and recorded (path: FileChecksum
// of what scaffold last wrote; a path without one counts as edited), sorted by path.
func PlanAgainst(s *generators.FileSet, target string, recorded map[string]string) ([]Planned, error) {
	var plan []Planned
	for _, f := range s.Files() {
		p := filepath.Join(target, filepath.FromSlash(f.Path))
		old, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			if fi, serr := os.Stat(p); serr == nil && fi.IsDir() {
				return nil, folderInTheWay(p)
			}
			return nil, err
		}
		plan = append(plan, Planned{Path: f.Path, Change: Classify(err == nil, old, recorded[f.Path], f.Data), Old: old, New: f.Data, Mode: f.Mode})
	}
	return plan, nil
}

// EditPolicy says what writing does with a file edited since scaffold wrote it.
type EditPolicy int

// The kinds of EditPolicy.
const (
	RefuseEdited    EditPolicy = iota // a Conflict stops everything (deploy-config without --force)
	OverwriteEdited                   // the edit is lost, Kept files too (--force)
	SetAsideEdited                    // the edit stays, scaffold's version goes beside it as FILE.scaffold-new (new, update, vendor)
)

// ConflictError lists the files a RefuseEdited plan would have to overwrite.
type ConflictError struct{ Paths []string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s changed since scaffold wrote it: nothing written", strings.Join(e.Paths, ", "))
}

// Stage is the set that carries out plan under policy: created, overwritten and merged
// files, and conflicts not merged as policy says. Unchanged and Kept files write nothing (Kept under
// OverwriteEdited aside). It touches no disk.
func Stage(plan []Planned, policy EditPolicy) (*generators.FileSet, error) {
	set := generators.NewFileSet()
	var refused []string
	for _, p := range plan {
		switch {
		case p.Merged != nil:
			set.Add(p.Path, p.Merged, p.Mode)
		case p.Change == Create || p.Change == Overwrite:
			set.Add(p.Path, p.New, p.Mode)
		case p.Change == Conflict && policy == SetAsideEdited:
			set.Add(p.Path+ConflictSuffix, p.New, p.Mode)
		case (p.Change == Conflict || p.Change == Kept) && policy == OverwriteEdited:
			set.Add(p.Path, p.New, p.Mode)
		case p.Change == Conflict:
			refused = append(refused, p.Path)
		}
	}
	if len(refused) > 0 {
		return nil, &ConflictError{Paths: refused}
	}
	return set, nil
}
