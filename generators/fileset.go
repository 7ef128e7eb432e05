package generators

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// File is one generated file; Path is slash-separated and relative to the target.
type File struct {
	Path string
	Data []byte
	Mode fs.FileMode
}

// FileSet is an ordered set of generated files keyed by path.
type FileSet struct {
	files    map[string]File
	removals map[string]bool
}

// NewFileSet returns an empty set.
func NewFileSet() *FileSet { return &FileSet{files: map[string]File{}, removals: map[string]bool{}} }

// Remove makes state.Commit delete p from an existing target, in the same all-or-nothing step
// as the writes: if any of them fails, p is put back.
func (s *FileSet) Remove(p string) { s.removals[p] = true }

// Add puts a file in the set, replacing any file at the same path.
func (s *FileSet) Add(p string, data []byte, mode fs.FileMode) {
	if mode == 0 {
		mode = 0o644
	}
	s.files[p] = File{Path: p, Data: data, Mode: mode}
}

// Drop takes the file at p out of the set.
func (s *FileSet) Drop(p string) { delete(s.files, p) }

// Get returns the file at p.
func (s *FileSet) Get(p string) (File, bool) {
	f, ok := s.files[p]
	return f, ok
}

// Files returns the files sorted by path.
func (s *FileSet) Files() []File {
	out := make([]File, 0, len(s.files))
	for _, f := range s.files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Len is the number of files.
func (s *FileSet) Len() int { return len(s.files) }

// NewTemplate returns a text/template with sprig's functions that fails on a missing key.
func NewTemplate(name string) *template.Template {
	return template.New(name).Funcs(sprig.TxtFuncMap()).Option("missingkey=error")
}

// RenderTree renders every file under root in tree into s: *.tmpl through NewTemplate
// with data (suffix dropped), other files copied as they are.
func (s *FileSet) RenderTree(tree fs.FS, root string, data any) error {
	return fs.WalkDir(tree, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(tree, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		if strings.HasSuffix(rel, ".tmpl") {
			rel = strings.TrimSuffix(rel, ".tmpl")
			t, err := NewTemplate(rel).Parse(string(raw))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, data); err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			raw = buf.Bytes()
		}
		mode := fs.FileMode(0o644)
		if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		s.Add(rel, raw, mode)
		return nil
	})
}

// FormatGo gofmts every .go file in the set, so a template mistake fails generation
// instead of producing a project that does not compile.
func (s *FileSet) FormatGo() error {
	for p, f := range s.files {
		if path.Ext(p) != ".go" {
			continue
		}
		out, err := format.Source(f.Data)
		if err != nil {
			return fmt.Errorf("gofmt %s: %w", p, err)
		}
		f.Data = out
		s.files[p] = f
	}
	return nil
}

// Removals are the paths state.Commit removes (Remove) that no file of s takes, sorted.
func (s *FileSet) Removals() []string {
	var out []string
	for p := range s.removals {
		if _, written := s.files[p]; !written {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
