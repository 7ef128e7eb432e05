package generators

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// FS is the set as a read-only file system, so a generator that reads a project through
// an fs.FS (deploy-config reads config/ and scaffold.yaml) can read one that is not
// written yet.
func (s *FileSet) FS() fs.FS { return setFS{set: s} }

// Overlay is what base (the folder the set is committed into) holds once the set is
// committed: the set's files over base's, its removals gone.
func (s *FileSet) Overlay(base fs.FS) fs.FS { return setFS{set: s, base: base} }

type setFS struct {
	set  *FileSet
	base fs.FS // nil: the set alone
}

// ReadFile lets fs.ReadFile skip Open.
func (v setFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	if f, ok := v.set.files[name]; ok {
		return bytes.Clone(f.Data), nil
	}
	if v.set.removals[name] || v.base == nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return fs.ReadFile(v.base, name)
}

func (v setFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if f, ok := v.set.files[name]; ok {
		return &memFile{info: memInfo{name: path.Base(name), size: int64(len(f.Data)), mode: f.Mode}, r: bytes.NewReader(f.Data)}, nil
	}
	entries, err := v.ReadDir(name)
	if err == nil {
		return &memDir{info: memInfo{name: path.Base(name), mode: fs.ModeDir | 0o755}, entries: entries}, nil
	}
	if v.set.removals[name] || v.base == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return v.base.Open(name)
}

// ReadDir merges the set's files and the folders leading to them with base's entries.
func (v setFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	byName := map[string]fs.DirEntry{}
	found := name == "."
	if v.base != nil {
		if entries, err := fs.ReadDir(v.base, name); err == nil {
			found = true
			for _, e := range entries {
				if !v.set.removals[path.Join(name, e.Name())] {
					byName[e.Name()] = e
				}
			}
		}
	}
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	for p, f := range v.set.files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		found = true
		if child, _, deeper := strings.Cut(rest, "/"); deeper {
			byName[child] = fs.FileInfoToDirEntry(memInfo{name: child, mode: fs.ModeDir | 0o755})
		} else {
			byName[child] = fs.FileInfoToDirEntry(memInfo{name: child, size: int64(len(f.Data)), mode: f.Mode})
		}
	}
	if !found {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

type memInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.mode.IsDir() }
func (i memInfo) Sys() any           { return nil }

type memFile struct {
	info memInfo
	r    *bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }

type memDir struct {
	info    memInfo
	entries []fs.DirEntry
}

func (d *memDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *memDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *memDir) Close() error { return nil }

// ReadDir returns the next n entries (all with n <= 0), as fs.ReadDirFile says.
func (d *memDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}
