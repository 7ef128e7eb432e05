package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scaffoldgo/scaffold/generators"
)

// ErrNotEmpty means the target folder already holds files and Force was not given.
var ErrNotEmpty = errors.New("not empty")

// rename is os.Rename; tests replace it to fail part-way through a commit.
var rename = os.Rename

// Plan lists, for each file of s, what writing it into target with Commit would do: with
// no record of what scaffold wrote, a file that differs is overwritten (new --force).
func Plan(s *generators.FileSet, target string) ([]Change, error) {
	plan, err := PlanAgainst(s, target, nil)
	if err != nil {
		return nil, err
	}
	changes := make([]Change, len(plan))
	for i, p := range plan {
		changes[i] = p.Change
		if p.Change == Conflict {
			changes[i] = Overwrite
		}
	}
	return changes, nil
}

// IsEmptyDir reports whether dir exists and holds nothing. A missing dir is reported as
// (false, nil).
func IsEmptyDir(dir string) (exists, empty bool, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return true, false, err
	}
	return true, len(entries) == 0, nil
}

// Commit writes s into target without ever leaving a half-written result: every file is
// first written to a staging folder beside target; a new target is then renamed into place
// in one step, and an existing one receives each file by rename, with everything undone
// if any move fails (removals included, see Remove). Files of target that s does not name
// are never touched. A non-empty target is refused (ErrNotEmpty) unless force.
func Commit(s *generators.FileSet, target string, force bool) error {
	return CommitAll(Into{Target: target, Files: s, Force: force})
}

// Into is one folder's share of CommitAll: the files to commit into Target, and whether
// a non-empty Target is accepted (Commit's force).
type Into struct {
	Target string
	Files  *generators.FileSet
	Force  bool
}

// CommitAll commits each set into its folder (Commit) as one step: every set is staged
// before anything moves, and if a move into any folder fails, the folders already
// written are put back as they were too. The folders must not hold one another.
func CommitAll(parts ...Into) error {
	var stages []string
	defer func() {
		for _, st := range stages {
			os.RemoveAll(st)
		}
	}()
	existed := make([]bool, len(parts))
	for i, p := range parts {
		parts[i].Target = filepath.Clean(p.Target)
		stage, exists, err := stage(p.Files, parts[i].Target, p.Force)
		if stage != "" {
			stages = append(stages, stage)
		}
		if err != nil {
			return err
		}
		existed[i] = exists
	}
	var undo []func()
	for i, p := range parts {
		staged := filepath.Join(stages[i], "new")
		var err error
		if !existed[i] {
			if err = rename(staged, p.Target); err == nil {
				undo = append(undo, func() { _ = os.Rename(p.Target, staged) })
			}
		} else {
			var u func()
			if u, err = moveInto(p.Files, staged, filepath.Join(stages[i], "old"), p.Target); err == nil {
				undo = append(undo, u)
			}
		}
		if err != nil {
			for j := len(undo) - 1; j >= 0; j-- {
				undo[j]()
			}
			return err
		}
	}
	return nil
}

// stage checks target and writes s into a staging folder beside it (in "new"), returning
// that folder ("" if none was made) and whether target exists.
func stage(s *generators.FileSet, target string, force bool) (stage string, exists bool, err error) {
	exists, empty, err := IsEmptyDir(target)
	if err != nil {
		if fi, serr := os.Stat(target); serr == nil && !fi.IsDir() {
			return "", false, fmt.Errorf("%s exists and is not a folder", target)
		}
		return "", false, err
	}
	if exists && !empty && !force {
		return "", false, fmt.Errorf("%s: %w", target, ErrNotEmpty)
	}
	if exists {
		if err := checkConflicts(s, target); err != nil {
			return "", false, err
		}
	}
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", false, err
	}
	stage, err = os.MkdirTemp(parent, "."+filepath.Base(target)+".scaffold-*")
	if err != nil {
		return "", false, fmt.Errorf("staging folder beside %s: %w", target, err)
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return stage, false, err
	}
	return stage, exists, writeAll(s, filepath.Join(stage, "new"))
}

func writeAll(s *generators.FileSet, root string) error {
	for _, f := range s.Files() {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

// checkConflicts refuses, before anything moves, a file whose place is taken by a folder
// or whose parent is a file.
func checkConflicts(s *generators.FileSet, target string) error {
	for _, f := range s.Files() {
		p := filepath.Join(target, filepath.FromSlash(f.Path))
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return folderInTheWay(p)
		}
		for dir := filepath.Dir(p); dir != target && len(dir) > len(target); dir = filepath.Dir(dir) {
			if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
				return fmt.Errorf("%s is a file where scaffold needs a folder; move it away first", dir)
			}
		}
	}
	return nil
}

// folderInTheWay is the error for a folder at p, where scaffold writes a file.
func folderInTheWay(p string) error {
	return fmt.Errorf("%s is a folder where scaffold writes a file; move it away first", p)
}

// moveInto renames each staged file into target, keeping any file it replaces in backup;
// on failure it puts everything back, and on success it returns the function that does
// (while backup still exists), for a later part of CommitAll that fails.
func moveInto(s *generators.FileSet, staged, backup, target string) (undo func(), err error) {
	type move struct{ dst, saved string }
	var done []move
	var madeDirs []string
	putBack := func() {
		for i := len(done) - 1; i >= 0; i-- {
			_ = os.Remove(done[i].dst)
			if done[i].saved != "" {
				_ = os.Rename(done[i].saved, done[i].dst)
			}
		}
		for i := len(madeDirs) - 1; i >= 0; i-- {
			_ = os.Remove(madeDirs[i])
		}
	}
	defer func() {
		if err != nil {
			putBack()
		}
	}()
	for _, f := range s.Files() {
		rel := filepath.FromSlash(f.Path)
		dst := filepath.Join(target, rel)
		made, err := mkdirAllTracked(filepath.Dir(dst))
		madeDirs = append(madeDirs, made...)
		if err != nil {
			return nil, err
		}
		m := move{dst: dst}
		if _, err := os.Lstat(dst); err == nil {
			m.saved = filepath.Join(backup, rel)
			if err := os.MkdirAll(filepath.Dir(m.saved), 0o755); err != nil {
				return nil, err
			}
			if err := rename(dst, m.saved); err != nil {
				return nil, err
			}
		}
		if err := rename(filepath.Join(staged, rel), dst); err != nil {
			if m.saved != "" {
				_ = os.Rename(m.saved, dst)
			}
			return nil, err
		}
		done = append(done, m)
	}
	for _, p := range s.Removals() {
		rel := filepath.FromSlash(p)
		m := move{dst: filepath.Join(target, rel), saved: filepath.Join(backup, rel)}
		if _, err := os.Lstat(m.dst); err != nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(m.saved), 0o755); err != nil {
			return nil, err
		}
		if err := rename(m.dst, m.saved); err != nil {
			return nil, err
		}
		done = append(done, m)
	}
	return putBack, nil
}

// mkdirAllTracked creates dir and its missing parents, returning those it created.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}
