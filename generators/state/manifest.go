package state

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ManifestFile is the manifest's name at a project's root.
const ManifestFile = "scaffold.yaml"

// Manifest is scaffold.yaml: what a project was generated from, read back by
// `scaffold vendor` and `scaffold deploy-config`.
type Manifest struct {
	ScaffoldVersion string  `yaml:"scaffold_version"`
	Name            string  `yaml:"name"`
	Module          string  `yaml:"module"`
	Answers         Answers `yaml:"answers"`
	Runtime         Runtime `yaml:"runtime"`
	// Modules were added by `scaffold add module`; `scaffold update` re-renders them.
	Modules []Module `yaml:"modules,omitempty"`
	// Removed are the files and folders (a sample module: web/home) scaffold generates that
	// the user deleted: scaffold never writes them again, as dpkg keeps a removed conffile
	// removed. Deleting a line brings the file back on the next `scaffold update`.
	Removed []string `yaml:"removed,omitempty"`
	// Files maps every generated file but scaffold.yaml to the checksum of the content
	// scaffold wrote ("sha256:<hex>"), so `scaffold update` can tell a user's edit from
	// an old template.
	Files map[string]string `yaml:"files,omitempty"`
	// DerivedFrom maps each file `scaffold deploy-config` wrote (also a key of Files, by its
	// path from the project folder: deploy/nginx/demo.conf) to the digest of the config/ it
	// was derived from, "sha256:" and the hex of `LC_ALL=C sha256sum config/*.yaml |
	// sha256sum` run in the project folder, so `make package-check` can tell a file that
	// config/ has since made stale.
	// A key outside the project folder is the --out given: ../ops/nginx/demo.conf or
	// /srv/demo/nginx/demo.conf.
	DerivedFrom map[string]string `yaml:"derived_from,omitempty"`
	// Header is the comment scaffold.yaml starts with (whose each file is): the render
	// sets it, and a manifest read back keeps the one it was read with.
	Header string `yaml:"-"`
}

// IsRemoved reports whether the user removed p, a file or a folder (Removed).
func (m *Manifest) IsRemoved(p string) bool { return RemovedIn(m.Removed, p) }

// RecordsUnder reports whether m records a file scaffold wrote under folder.
func (m *Manifest) RecordsUnder(folder string) bool {
	for p := range m.Files {
		if strings.HasPrefix(p, folder+"/") {
			return true
		}
	}
	return false
}

// Within reports whether p is the path r or lies in the folder r.
func Within(p, r string) bool { return p == r || strings.HasPrefix(p, r+"/") }

// RemovedIn reports whether p is one of removed or lies in one of them.
func RemovedIn(removed []string, p string) bool {
	return slices.ContainsFunc(removed, func(r string) bool { return Within(p, r) })
}

// Remove records p as removed by the user: no longer a file scaffold wrote.
func (m *Manifest) Remove(p string) {
	delete(m.Files, p)
	delete(m.DerivedFrom, p)
	m.Removed = append(m.Removed, p)
	sort.Strings(m.Removed)
}

// KeepDerived copies into m old's record of the files deploy-config wrote, which a
// re-rendered manifest does not know: their edit-protection survives `scaffold update`
// and `scaffold new --force`. m's own entries win.
func (m *Manifest) KeepDerived(old *Manifest) {
	for p, from := range old.DerivedFrom {
		sum, ok := old.Files[p]
		if _, mine := m.Files[p]; !ok || mine {
			continue
		}
		m.RecordDerived(p, sum, from)
	}
}

// RecordDerived records a file deploy-config wrote: its checksum (FileChecksum) and the
// digest of the config/ it was derived from.
func (m *Manifest) RecordDerived(p, sum, from string) {
	if m.Files == nil {
		m.Files = map[string]string{}
	}
	if m.DerivedFrom == nil {
		m.DerivedFrom = map[string]string{}
	}
	m.Files[p], m.DerivedFrom[p] = sum, from
}

// Answers are the values given (or defaulted) to `scaffold new`.
type Answers struct {
	Port    int `yaml:"port"`
	Workers int `yaml:"workers"`
	// Database is sqlite or postgres; absent for none.
	Database string `yaml:"database,omitempty"`
	// Maintainer is the packages' maintainer, "Name <email>"; absent in older manifests,
	// which get PlaceholderMaintainer.
	Maintainer string `yaml:"maintainer,omitempty"`
}

// Runtime records the vendored prefork runtime.
type Runtime struct {
	Dir     string   `yaml:"dir"`
	Version string   `yaml:"version"`
	Files   []string `yaml:"files"`
}

// Marshal renders the manifest as YAML with its header.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(m.Header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// LoadManifest reads dir/scaffold.yaml; the error says when dir is not a scaffold project.
func LoadManifest(dir string) (*Manifest, error) { return ReadManifest(os.DirFS(dir), dir) }

// ReadManifest reads scaffold.yaml from a project seen through fsys, such as one not
// written yet (generators.FileSet.FS); dir names the project in errors.
func ReadManifest(fsys fs.FS, dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestFile)
	data, err := fs.ReadFile(fsys, ManifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s not found: run this inside a project made by `scaffold new`", p)
	}
	if err != nil {
		return nil, err
	}
	if data, err = migrate(data, migrations); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	m := Manifest{Header: leadingComment(data)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	if err := ValidateName(m.Name); err != nil {
		return nil, fmt.Errorf("%s: name: %v", p, err)
	}
	if m.Module == "" {
		return nil, fmt.Errorf("%s: module: must not be empty", p)
	}
	if m.Answers.Database != "" {
		if err := ValidateDatabase(m.Answers.Database); err != nil {
			return nil, fmt.Errorf("%s: answers.database: %v", p, err)
		}
	}
	if m.Runtime.Dir == "" {
		return nil, fmt.Errorf("%s: runtime.dir: must not be empty (where the runtime is vendored: internal/prefork)", p)
	}
	return &m, nil
}

// leadingComment is the comment lines data starts with, newlines included.
func leadingComment(data []byte) string {
	var n int
	for rest := data; bytes.HasPrefix(rest, []byte("#")); {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		if !found {
			break
		}
		n += len(line) + 1
		rest = after
	}
	return string(data[:n])
}
