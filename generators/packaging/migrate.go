package packaging

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/project"
)

// oldOut is where a scaffold before packaging/ wrote layout l's files: deploy/ for the
// .deb's, deploy/rpm/ for the .rpm's.
func oldOut(l Layout) string {
	if l.WebGroup != "" {
		return "deploy/rpm"
	}
	return "deploy"
}

// Reasons a file of the old layout stays in deploy/ (project.UpdateMove's Left).
const (
	leftEdited    = "edited since scaffold wrote it"
	leftRewritten = "rewritten by deploy-config for another layout: your host's file now"
)

// A file's witness (in Migrate's map) is the file that says whether it is still of the
// package layout: itself for the service unit and README.md, the service unit for the
// socket unit, README.md for logrotate.

// Migrate moves the package files an older scaffold kept in deploy/ and deploy/rpm/ out
// of the way of deploy-config's host layout, in set (the commit that writes their new
// copies into packaging/) with m (the manifest it writes). A file goes, record and all,
// only when it is what scaffold wrote for the package layout and nothing since touched it:
//   - its checksum is scaffold.yaml's record (or an old deploy/.scaffold-sums'), so no
//     edit is lost;
//   - it is of the package layout: the service unit by its ExecStart and WorkingDirectory
//     (servesLayout); the socket unit with it (deploy-config's systemd target writes the
//     two together); logrotate and README.md by the README, which every deploy-config run
//     into the folder rewrites: one for the package layout says no host run came since.
//
// Anything else stays where it is with its record, the user's (the /opt layout of
// `deploy-config all`, or an edit to carry over by hand). Each file found is reported.
// Once scaffold.yaml records a layout's service unit in packaging/, its old folder is the
// user's alone and Migrate leaves it be.
func Migrate(set *generators.FileSet, m *project.Manifest, dir string) ([]project.UpdateMove, error) {
	var moves []project.UpdateMove
	for _, l := range Layouts(m.Name) {
		if _, moved := m.Files[path.Join(l.Out, "systemd", m.Name+".service")]; moved {
			continue // packaging/ is written: deploy/ holds only the user's files
		}
		out := oldOut(l)
		// The old record, if still in out/.scaffold-sums, moves into m first.
		if err := deploy.AddTo(set, m, dir, out, nil, generators.NewFileSet()); err != nil {
			return nil, err
		}
		files := map[string][]byte{}
		for _, rel := range oldFiles(l, m.Name) {
			data, err := os.ReadFile(filepath.Join(dir, out, filepath.FromSlash(rel)))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			files[rel] = data
		}
		unchanged := func(rel string) bool {
			data, ok := files[rel]
			sum := m.Files[path.Join(out, rel)]
			return ok && sum != "" && generators.FileChecksum(data) == sum
		}
		service := "systemd/" + m.Name + ".service"
		witness := map[string]string{service: service, "systemd/" + m.Name + ".socket": service, "logrotate/" + m.Name: "README.md", "README.md": "README.md"}
		ofLayout := map[string]bool{
			service:     servesLayout(files[service], l),
			"README.md": bytes.Contains(files["README.md"], []byte("make install PREFIX="+l.Prefix+"\n")),
		}
		var found []project.UpdateMove
		for _, rel := range oldFiles(l, m.Name) {
			if _, ok := files[rel]; !ok {
				continue
			}
			mv := project.UpdateMove{From: path.Join(out, rel), To: path.Join(l.Out, rel)}
			w := witness[rel]
			switch {
			case !unchanged(rel):
				mv.Left = leftEdited
			case !unchanged(w) || !ofLayout[w]:
				mv.Left = leftRewritten
				if _, ok := files[w]; !ok {
					mv.Left = "without " + path.Join(out, w) + " its layout is unknown"
				} else if w != rel {
					mv.Left = "kept with " + path.Join(out, w) + ", which stays"
				}
			}
			found = append(found, mv)
		}
		// Decided on the record as it was; only now does it change.
		for _, mv := range found {
			if mv.Left == "" {
				set.Remove(mv.From)
				delete(m.Files, mv.From)
				delete(m.DerivedFrom, mv.From)
			}
		}
		moves = append(moves, found...)
	}
	return moves, nil
}

// oldFiles are the files layout l wrote into its old folder, relative to it.
func oldFiles(l Layout, name string) []string {
	files := []string{"README.md", "systemd/" + name + ".service", "systemd/" + name + ".socket"}
	if l.WebGroup == "" {
		files = append(files, "logrotate/"+name)
	}
	return files
}

// pruneEmpty removes the folders of the moved files that the move left empty, up to and
// including deploy/ (a folder with anything in it stays).
func pruneEmpty(dir string, moves []project.UpdateMove) {
	for _, mv := range moves {
		if mv.Left != "" {
			continue
		}
		for d := path.Dir(mv.From); d != "." && d != "/"; d = path.Dir(d) {
			if os.Remove(filepath.Join(dir, filepath.FromSlash(d))) != nil {
				break
			}
		}
	}
}
