package appconfig

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// env applies APP_<PATH> variables. One that names a section but none of its keys is an
// error; one that names no section is a warning (Origins.Warnings): it is someone else's.
func (l *loader) env(root reflect.Value, env map[string]envValue) error {
	leaves := map[string]leaf{}
	walk(root, "", func(lf leaf) { leaves[envName(lf.path)] = lf })
	// Variables of the engine's own sections are judged even by a partial reader.
	var ownedPrefixes, sectionPrefixes, sections []string
	t := root.Type()
	for i := 0; i < t.NumField(); i++ {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		if owned(t.Field(i).Type) {
			ownedPrefixes = append(ownedPrefixes, envName(name)+"_")
		}
		if ft := t.Field(i).Type; ft.Kind() == reflect.Struct && ft != durationType {
			sectionPrefixes = append(sectionPrefixes, envName(name)+"_")
			sections = append(sections, name)
		}
	}
	names := make([]string, 0, len(env))
	for n := range env {
		names = append(names, n)
	}
	sort.Strings(names)
	var known []string
	for n := range leaves {
		known = append(known, n)
	}
	sort.Strings(known)
	under := func(prefixes []string, name string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name+"_", p) })
	}
	for _, name := range names {
		if !strings.HasPrefix(name, EnvPrefix) || name == EnvMode || name == EnvSourceTree {
			continue
		}
		lf, ok := leaves[name]
		if !ok {
			if l.src.Partial && !under(ownedPrefixes, name) {
				continue // the app judges it
			}
			if base, isFile := strings.CutSuffix(name, "_FILE"); isFile && leaves[base].secret() {
				if _, both := env[base]; both {
					return fmt.Errorf("%s: %s is set too; keep one", varName(env[name], name), base)
				}
				path := env[name].value
				value, err := readSecret(path)
				if err != nil {
					return fmt.Errorf("%s (%s): %v", varName(env[name], name), leaves[base].path, err)
				}
				leaves[base].v.SetString(value)
				l.o.at[leaves[base].path] = env[name].origin + " (file " + path + ")"
				continue
			}
			if !under(sectionPrefixes, name) {
				l.o.warnings = append(l.o.warnings, fmt.Sprintf("%s: no effect: names no section of %s (%s), so it sets nothing%s", varName(env[name], name), l.src.Dir, strings.Join(sections, ", "), suggest(name, known)))
				continue
			}
			return fmt.Errorf("%s: no such setting%s (each key of %s has one: APP_<SECTION>_<KEY>, such as APP_SERVER_WORKERS)", varName(env[name], name), suggest(name, known), l.src.Dir)
		}
		if err := setLeaf(lf.v, env[name].value, true); err != nil {
			return fmt.Errorf("%s (%s): %v", varName(env[name], name), lf.path, err)
		}
		l.o.at[lf.path] = env[name].origin
	}
	return nil
}

// owned reports whether t is one of the engine's sections (Server, Logging), whose keys
// a partial reader (Source.Partial) still checks: they are the same type in the app.
func owned(t reflect.Type) bool {
	return t == reflect.TypeOf(Server{}) || t == reflect.TypeOf(Logging{}) || t == reflect.TypeOf(AccessLog{})
}

// varName names a variable for a message: "APP_X", or ".env:3: APP_X" from the file.
func varName(v envValue, name string) string {
	if strings.HasPrefix(v.origin, "env ") {
		return name
	}
	return v.origin + ": " + name
}

// envName is the variable that sets a key: server.keep_alive -> APP_SERVER_KEEP_ALIVE.
func envName(keyPath string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(keyPath, ".", "_"))
}

func envMap(pairs []string) map[string]string {
	m := map[string]string{}
	for _, kv := range pairs {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
