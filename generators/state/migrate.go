package state

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Migration brings scaffold.yaml from the shape one released scaffold wrote to the shape
// of the release after it.
type Migration struct {
	// Name says what changed and in which release: "v1.1.0: runtime.dir moved to runtime.path".
	Name string
	// Apply rewrites doc (scaffold.yaml's document node) in place when it has the old
	// shape, and reports whether it did; on the new shape it changes nothing.
	Apply func(doc *yaml.Node) (bool, error)
}

// migrations is the one ordered list of scaffold.yaml's changes of shape, oldest first,
// which ReadManifest runs before decoding. It is empty: no release has been tagged, so
// every scaffold.yaml there is has the current shape, and no code reads an older one.
// From the first tag on, a release that changes the shape adds one step at the end and
// its golden test, testdata/migrations/NN-SLUG.txtar (NN its index, from 01), holding
// the file before and after the step (TestMigrations).
var migrations []Migration

// migrate runs steps over scaffold.yaml's data; unchanged data when none applies.
func migrate(data []byte, steps []Migration) ([]byte, error) {
	if len(steps) == 0 {
		return data, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	changed := false
	for _, s := range steps {
		applied, err := s.Apply(&doc)
		if err != nil {
			return nil, fmt.Errorf("migrating from an older scaffold (%s): %w", s.Name, err)
		}
		changed = changed || applied
	}
	if !changed {
		return data, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
