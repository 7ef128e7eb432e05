// Package appconfig is the configuration engine of a generated project, shared by the
// project's own entries and by scaffold's deploy-config and dev runner, so all three read
// the same values the same way.
//
// Load order, later wins:
//
//  1. config.yaml, and logging.yaml as the logging section;
//  2. the APP_ENV mode's section of setting.yaml (development or production), then, in
//     production mode with APP_SOURCE_TREE=1, its source_tree section;
//  3. APP_<SECTION>_<KEY> environment variables (in development with APP_SOURCE_TREE=1,
//     the project's .env too, under the real environment);
//  4. the entry's command-line flags (Server.FromFlags).
//
// $PORT and $WEB_CONCURRENCY give server.bind and server.workers their defaults, as in
// Gunicorn: only when no file or APP_SERVER_* variable sets them; one that is overridden
// is a warning naming what won.
//
// A secret key (tagged secret:"true", database.dsn) also takes its value from a file, so
// it need not sit in config/ or the environment: KEY_file: PATH in YAML (relative to the
// configuration directory), APP_<SECTION>_<KEY>_FILE, or systemd's credential
// $CREDENTIALS_DIRECTORY/<section>.<key> (LoadCredential=), applied before the variables.
// Each read happens at every Load: at start and on HUP.
//
// Every value remembers where it was set (file:line, variable, flag) for error messages
// and --print-config. Durations, sizes, addresses and levels each have one parser, the
// runtime's, so a value means the same in YAML, in a variable and in a flag. Unknown keys,
// duplicate keys and APP_* variables that name a section but none of its keys
// (APP_SERVER_WROKERS) are errors that name the closest known key. An APP_* variable that
// names no section at all (a platform's APP_VERSION or APP_URL, Kubernetes' service links
// APP_PORT and APP_SERVICE_HOST) sets nothing and is not the app's to refuse: it is a
// warning (Origins.Warnings), which the entry reports once at start-up.
//
// Whether the entry runs from the project's source tree is the caller's statement,
// APP_SOURCE_TREE=1 (set by the project's Makefile and by `scaffold run`) or
// Source.SourceTree, never guessed from the files around the configuration directory:
// an installed binary behaves the same wherever it is started.
//
// The package is vendored into every generated project (internal/appconfig) beside the
// runtime; its tests live in scaffold's repository.
package appconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// The files of a configuration directory, and the modes of setting.yaml.
const (
	ConfigFile  = "config.yaml"
	LoggingFile = "logging.yaml"
	SettingFile = "setting.yaml"

	ModeDevelopment = "development"
	ModeProduction  = "production"
	// SourceTree is the section of setting.yaml applied over production when the
	// production entry runs from the project's source tree (EnvSourceTree).
	SourceTree = "source_tree"

	// EnvMode selects the mode; EnvPrefix starts every variable that sets a key.
	EnvMode   = "APP_ENV"
	EnvPrefix = "APP_"
	// EnvSourceTree=1 says the entry runs from the project's source tree (Source.SourceTree);
	// unset, empty or 0, it does not.
	EnvSourceTree = "APP_SOURCE_TREE"

	// loggingKey is the section logging.yaml fills.
	loggingKey = "logging"
	// serverKey is the server section ($PORT and $WEB_CONCURRENCY give its defaults).
	serverKey = "server"
)

// Source says what to read.
type Source struct {
	// Dir is the configuration directory, as messages name it ("config").
	Dir string
	// FS reads Dir's files by their base names; nil reads Dir from the disk.
	FS fs.FS
	// Mode is development or production; "" takes APP_ENV from Env, then DefaultMode.
	Mode        string
	DefaultMode string
	// Env holds KEY=value pairs (os.Environ()); APP_* variables set keys. nil: none.
	Env []string
	// SourceTree applies setting.yaml's source_tree section in production mode, and
	// reads the project's .env in development mode (DotEnvFile). Env's EnvSourceTree=1
	// sets it too.
	SourceTree bool
	// Partial is for tools that read a subset of the keys (deploy-config, the dev
	// runner): keys and variables dst does not have are left for the app to judge.
	Partial bool
}

// sourceTree reads EnvSourceTree from env: "1" is the source tree; unset, "" or "0" not.
func sourceTree(env map[string]string) (bool, error) {
	switch v := env[EnvSourceTree]; v {
	case "1":
		return true, nil
	case "", "0":
		return false, nil
	default:
		return false, fmt.Errorf("%s: must be 1 (run from the project's source tree) or 0, got %q", EnvSourceTree, v)
	}
}

// Load reads the configuration src names over dst, a pointer to a struct whose fields
// carry yaml tags and hold the defaults. It checks shapes and types, not rules: run the
// sections' Validate methods (Origins.Checker) after it.
func Load(src Source, dst any) (*Origins, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("appconfig: Load needs a pointer to a struct, got %T", dst)
	}
	root := rv.Elem()
	if src.FS == nil {
		src.FS = os.DirFS(src.Dir)
	}
	env := envMap(src.Env)
	mode := src.Mode
	if mode == "" {
		mode = env[EnvMode]
	}
	if mode == "" {
		mode = src.DefaultMode
	}
	if mode != ModeDevelopment && mode != ModeProduction {
		return nil, fmt.Errorf("%s: must be %s or %s, got %q", EnvMode, ModeDevelopment, ModeProduction, mode)
	}
	inTree, err := sourceTree(env)
	if err != nil {
		return nil, err
	}
	src.SourceTree = src.SourceTree || inTree
	o := &Origins{dir: src.Dir, mode: mode, at: map[string]string{}}
	l := &loader{src: src, o: o}

	doc, err := l.parse(ConfigFile, true)
	if err != nil {
		return nil, err
	}
	if doc != nil {
		if k, _ := lookup(doc, loggingKey); k != nil {
			return nil, fmt.Errorf("%s:%d: %s: belongs in %s, which sets the logging section (config.yaml's would be overridden by it)", l.name(ConfigFile), k.Line, loggingKey, l.name(LoggingFile))
		}
		if err := l.decode(ConfigFile, doc, root, ""); err != nil {
			return nil, err
		}
	}
	if field, ok := fieldByName(root, loggingKey); ok {
		doc, err := l.parse(LoggingFile, true)
		if err != nil {
			return nil, err
		}
		if doc != nil {
			if err := l.decode(LoggingFile, doc, field, loggingKey); err != nil {
				return nil, err
			}
		}
	} else if !src.Partial {
		return nil, fmt.Errorf("appconfig: %T has no %q section for %s", dst, loggingKey, LoggingFile)
	}
	if err := l.settings(root, mode); err != nil {
		return nil, err
	}
	vars := map[string]envValue{}
	if mode == ModeDevelopment && src.SourceTree {
		dotenv, err := readDotEnv(dotEnvPath(src.Dir), DotEnvFile)
		if err != nil {
			return nil, err
		}
		for k, v := range dotenv {
			if strings.HasPrefix(k, EnvPrefix) && k != EnvMode && k != EnvSourceTree {
				vars[k] = v // other variables are for other tools
			}
		}
	}
	for k, v := range env {
		vars[k] = envValue{value: v, origin: "env " + k}
	}
	if dir := env[EnvCredentials]; dir != "" && !src.Partial {
		if err := l.credentials(root, dir); err != nil {
			return nil, err
		}
	}
	if err := l.env(root, vars); err != nil {
		return nil, err
	}
	if err := l.platformDefaults(root, env); err != nil {
		return nil, err
	}
	return o, nil
}

// platformDefaults applies $PORT and $WEB_CONCURRENCY as Gunicorn does: as the defaults
// of server.bind and server.workers, when no file or APP_SERVER_* variable sets them.
// One that is overridden is remembered for Warnings.
func (l *loader) platformDefaults(root reflect.Value, env map[string]string) error {
	f, ok := fieldByName(root, serverKey)
	if !ok || f.Type() != reflect.TypeOf(Server{}) {
		return nil
	}
	for _, p := range prefork.PlatformDefaults(func(k string) string { return env[k] }) {
		path := serverKey + "." + p.Key
		if _, set := l.o.at[path]; set {
			l.o.unused = append(l.o.unused, p)
			continue
		}
		field, _ := fieldByName(f, p.Key)
		if err := setLeaf(field, p.Value, false); err != nil {
			return fmt.Errorf("%s=%q (%s): %v", p.Variable, p.Given, path, err)
		}
		l.o.at[path] = "env " + p.Variable
	}
	return nil
}

type loader struct {
	src Source
	o   *Origins
}

func (l *loader) name(file string) string { return path.Join(filepath.ToSlash(l.src.Dir), file) }

// parse reads one file into its top node; nil for an empty or (when optional) absent file.
func (l *loader) parse(file string, required bool) (*yaml.Node, error) {
	data, err := fs.ReadFile(l.src.FS, file)
	if errors.Is(err, fs.ErrNotExist) {
		if !required {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: not found: run from the project's root, or name the configuration directory with -c DIR", l.name(file))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.name(file), err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(l.name(file), data, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil, nil
	}
	if err := duplicates(l.name(file), top, ""); err != nil {
		return nil, err
	}
	return top, nil
}

// settings applies setting.yaml: every section is checked, the mode's is applied.
func (l *loader) settings(root reflect.Value, mode string) error {
	doc, err := l.parse(SettingFile, false)
	if doc == nil || err != nil {
		return err
	}
	file := l.name(SettingFile)
	if doc.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: must be a mapping of modes (%s, %s, %s)", file, doc.Line, ModeDevelopment, ModeProduction, SourceTree)
	}
	known := []string{ModeDevelopment, ModeProduction, SourceTree}
	apply := map[string]bool{mode: true, SourceTree: mode == ModeProduction && l.src.SourceTree}
	for _, section := range known { // in load order, whatever the file's order
		_, val := lookup(doc, section)
		if val == nil {
			continue
		}
		if apply[section] {
			if err := l.decode(SettingFile, val, root, ""); err != nil {
				return err
			}
			continue
		}
		// Check the other sections too, so a typo in production is caught while developing.
		check := &loader{src: l.src, o: &Origins{at: map[string]string{}}}
		if err := check.decode(SettingFile, val, reflect.New(root.Type()).Elem(), ""); err != nil {
			return err
		}
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if k := doc.Content[i]; !contains(known, k.Value) {
			return fmt.Errorf("%s:%d: unknown section %q%s (known: %s)", file, k.Line, k.Value, suggest(k.Value, known), strings.Join(known, ", "))
		}
	}
	return nil
}

// decode checks node against into's type and decodes it over the values already there,
// recording where each key was set.
func (l *loader) decode(file string, node *yaml.Node, into reflect.Value, prefix string) error {
	where := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d", l.name(file), n.Line) }
	if into.Kind() == reflect.Struct && into.Type() != durationType {
		if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
			return nil // "modules:" with nothing under it
		}
		if node.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: %s: must be a mapping of keys, got %s", where(node), orTop(prefix), describe(node))
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, val := node.Content[i], node.Content[i+1]
			field, ok := fieldByName(into, key.Value)
			if !ok {
				if l.src.Partial && !owned(into.Type()) {
					continue
				}
				if base, isFile := strings.CutSuffix(key.Value, FileSuffix); isFile {
					if f, ok := secretField(into, base); ok {
						if k, _ := lookup(node, base); k != nil {
							return fmt.Errorf("%s: %s: %s is set too (line %d); keep one", where(key), join(prefix, key.Value), join(prefix, base), k.Line)
						}
						if err := l.secretFile(where(key), val, f, join(prefix, base), join(prefix, key.Value)); err != nil {
							return err
						}
						continue
					}
				}
				known := keys(into.Type())
				return fmt.Errorf("%s: unknown key %q in %s%s (known: %s)", where(key), key.Value, orTop(prefix), suggest(key.Value, known), strings.Join(known, ", "))
			}
			if prefix == "" && key.Value == loggingKey && file == ConfigFile {
				continue // refused by Load before decoding
			}
			if err := l.decode(file, val, field, join(prefix, key.Value)); err != nil {
				return err
			}
		}
		return nil
	}
	if !scalarKind(into) {
		// A type of the user's own (a map, a list of numbers or of mappings, a pointer):
		// YAML decodes it, and its error is given the key and the line.
		if err := node.Decode(into.Addr().Interface()); err != nil {
			msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")
			msg = yamlLinePrefix.ReplaceAllString(msg, "")
			return fmt.Errorf("%s: %s: %s", where(node), prefix, msg)
		}
		l.o.at[prefix] = where(node)
		return nil
	}
	if into.Kind() == reflect.Slice && node.Kind == yaml.SequenceNode {
		items := make([]string, 0, len(node.Content))
		for _, item := range node.Content {
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: %s: each item must be a single value, got %s", where(item), prefix, describe(item))
			}
			items = append(items, item.Value)
		}
		into.Set(reflect.ValueOf(items).Convert(into.Type()))
		l.o.at[prefix] = where(node)
		return nil
	}
	if node.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s: %s: must be %s, got %s", where(node), prefix, kindOf(into), describe(node))
	}
	raw := node.Value
	if node.Tag == "!!null" {
		if into.Kind() != reflect.String && into.Kind() != reflect.Slice {
			return fmt.Errorf("%s: %s: must be %s, got nothing", where(node), prefix, kindOf(into))
		}
		raw = ""
	}
	if err := setLeaf(into, raw, false); err != nil {
		return fmt.Errorf("%s: %s: %v", where(node), prefix, err)
	}
	l.o.at[prefix] = where(node)
	return nil
}
