// Package packaging keeps the files a generated project's .deb and .rpm install from
// packaging/ (systemd units, logrotate) present from `scaffold new` on and current through
// `scaffold update`, so a fresh project releases on its first tag: Units is a step of
// both commands' pipelines (generators/pipeline), planned into the project's one commit. They are exactly what
// the generated Makefile's `make package-units` writes (`scaffold deploy-config` with the
// package layout): the two agree file for file, and either can refresh what the other wrote.
//
// They live in packaging/, beside the package's maintainer scripts, and never in deploy/:
// deploy/ is deploy-config's default output for the user's own host (the /opt layout), and
// the two layouts share file names.
package packaging

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// Layout is one `scaffold deploy-config` run of `make package-units`: its options, the
// output folder (Out, relative to the project) included.
type Layout = deploy.Options

// Layouts are the runs of `make package-units` for the project name, in the Makefile's
// order: the .deb's units and logrotate in packaging/, the .rpm's units (whose nginx runs
// as group nginx) in packaging/rpm/. The paths are the Makefile's PKG_* variables and
// .goreleaser.yaml's nfpms contents.
func Layouts(name string) []Layout {
	share := "/usr/share/" + name
	deb := deploy.Options{Targets: []string{"systemd", "logrotate"}, Prefix: share, Bin: "/usr/bin/" + name, ConfigDir: "/etc/" + name, StaticDir: share + "/static"}
	rpm := deb
	rpm.Targets = []string{"systemd"}
	rpm.WebGroup = "nginx"
	deb.Out, rpm.Out = "packaging", "packaging/rpm"
	return []Layout{deb, rpm}
}

// Units renders the package files of the project seen through fsys (a project rendered
// but not written: its FileSet's FS; or Overlay of an update over the folder) and plans
// them against the project folder dir on disk with deploy-config's own record (in dir's
// scaffold.yaml). It adds to set, the project's commit, what changes (paths relative to
// dir), with m, the manifest that commit writes, recording them as deploy-config does;
// and returns each file's fate in `scaffold update`'s terms. A file edited since scaffold
// wrote it is kept, scaffold's version written beside it as FILE.scaffold-new.
func Units(set *generators.FileSet, m *state.Manifest, fsys fs.FS, dir string) ([]project.UpdateEntry, error) {
	var entries []project.UpdateEntry
	for _, l := range Layouts(m.Name) {
		out, err := deploy.Locate(dir, l.Out)
		if err != nil {
			return nil, err
		}
		var plan []deploy.Planned
		staged := generators.NewFileSet()
		if other, err := writtenForOtherLayout(out.Path, m.Name, l); err != nil || other != "" {
			if err != nil {
				return nil, err
			}
			// Units written there for another layout (a deploy-config --out packaging
			// of the user's) are the user's choice, left alone.
			entries = append(entries, project.UpdateEntry{Path: path.Join(l.Out, other), Action: state.Kept})
		} else {
			gen, err := deploy.GenerateFS(fsys, dir, l)
			if err != nil {
				return nil, fmt.Errorf("package units (%s): %w", l.Out, err)
			}
			if plan, err = gen.Plan(out); err != nil {
				return nil, err
			}
			var held []project.UpdateEntry
			if plan, held, err = holdBack(m, dir, plan); err != nil {
				return nil, err
			}
			entries = append(entries, held...)
			if staged, err = deploy.Stage(out.Path, plan, state.SetAsideEdited); err != nil {
				return nil, err
			}
			for _, p := range plan {
				entries = append(entries, project.UpdateEntry{Path: p.Key, Action: p.Change})
			}
		}
		if err := deploy.AddTo(set, m, out, plan, staged); err != nil {
			return nil, err
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries, nil
}

// holdBack takes out of plan, as update does the project's own files: the files the user
// deleted, which stay deleted (one scaffold.yaml records under removed:, silently; one it
// recorded as written but that is gone, reported once and then recorded as removed);
// and those whose earlier conflict is still open (state.OpenConflict: listed, left alone
// with their record, dir being the project folder).
func holdBack(m *state.Manifest, dir string, plan []deploy.Planned) ([]deploy.Planned, []project.UpdateEntry, error) {
	var kept []deploy.Planned
	var held []project.UpdateEntry
	for _, p := range plan {
		markers, aside, err := state.OpenConflict(dir, p.Key, p.Old)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case m.IsRemoved(p.Key):
		case p.Change == state.Create && m.Files[p.Key] != "":
			m.Remove(p.Key)
			held = append(held, project.UpdateEntry{Path: p.Key, Action: state.Removed})
		case markers || aside:
			held = append(held, project.UpdateEntry{Path: p.Key, Action: state.Unresolved, Markers: markers})
		default:
			kept = append(kept, p)
		}
	}
	return kept, held, nil
}

// writtenForOtherLayout returns the service unit's path (relative to out) when out holds
// one that was not written for layout l (servesLayout).
func writtenForOtherLayout(out, name string, l Layout) (string, error) {
	rel := "systemd/" + name + ".service"
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if servesLayout(data, l) {
		return "", nil
	}
	return rel, nil
}

// servesLayout says whether a service unit was written for layout l, as `make
// package-check` tells them apart: its ExecStart runs l's binary with -c l's config
// folder, from l's working directory.
func servesLayout(data []byte, l Layout) bool {
	var exec, workDir bool
	for _, line := range bytes.Split(data, []byte("\n")) {
		if args, ok := bytes.CutPrefix(line, []byte("ExecStart=")); ok {
			f := strings.Fields(string(args))
			c := slices.Index(f, "-c")
			exec = len(f) > 0 && f[0] == l.Bin && c > 0 && c+1 < len(f) && f[c+1] == l.ConfigDir
		}
		workDir = workDir || string(line) == "WorkingDirectory="+l.Prefix
	}
	return exec && workDir
}
