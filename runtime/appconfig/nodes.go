package appconfig

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// describe names a YAML node for a message: its quoted value, or what it is.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return strconv.Quote(n.Value)
}

// duplicates refuses a key given twice in one mapping (YAML's last-wins would hide it).
func duplicates(file string, n *yaml.Node, prefix string) error {
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, ok := seen[k.Value]; ok {
				return fmt.Errorf("%s:%d: %s: set twice (first at line %d); keep one", file, k.Line, join(prefix, k.Value), first)
			}
			seen[k.Value] = k.Line
			if err := duplicates(file, n.Content[i+1], join(prefix, k.Value)); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := duplicates(file, c, prefix); err != nil {
				return err
			}
		}
	}
	return nil
}

// lookup finds key in a mapping node.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
