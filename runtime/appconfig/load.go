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
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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

// FileSuffix marks a key that names the file holding a secret setting's value
// (dsn_file: /run/secrets/dsn); its variable ends in _FILE (APP_DATABASE_DSN_FILE), as
// the official database images take them. EnvCredentials is systemd's folder of the
// unit's LoadCredential= files: one named after a secret key's path ("database.dsn")
// sets it.
const (
	FileSuffix     = "_file"
	EnvCredentials = "CREDENTIALS_DIRECTORY"
)

// secretField finds the string field of v keyed name that is tagged secret:"true".
func secretField(v reflect.Value, name string) (reflect.Value, bool) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if yamlName(f) == name && f.Tag.Get("secret") == "true" && f.Type.Kind() == reflect.String {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// secret reports whether the leaf is a secret string (a DSN), which a file can set.
func (lf leaf) secret() bool {
	return lf.v.IsValid() && lf.field.Tag.Get("secret") == "true" && lf.v.Kind() == reflect.String
}

// secretFile sets a secret key from the file a YAML key_file names; a relative path is
// taken from the configuration directory. A partial reader never reads secrets.
func (l *loader) secretFile(at string, val *yaml.Node, into reflect.Value, keyPath, fileKey string) error {
	if val.Kind != yaml.ScalarNode || val.Value == "" {
		return fmt.Errorf("%s: %s: must be the path of a file holding %s, got %s", at, fileKey, keyPath, describe(val))
	}
	p := val.Value
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.src.Dir, p)
	}
	value, err := readSecret(p)
	if err != nil {
		return fmt.Errorf("%s: %s: %v", at, fileKey, err)
	}
	into.SetString(value)
	l.o.at[keyPath] = at + " (file " + p + ")"
	return nil
}

// credentials applies systemd's credentials: $CREDENTIALS_DIRECTORY/<key path> sets a
// secret key (LoadCredential=database.dsn:/etc/NAME/database.dsn).
func (l *loader) credentials(root reflect.Value, dir string) error {
	var err error
	walk(root, "", func(lf leaf) {
		if err != nil || !lf.secret() {
			return
		}
		p := filepath.Join(dir, lf.path)
		value, rerr := readSecret(p)
		switch {
		case errors.Is(rerr, fs.ErrNotExist):
		case rerr != nil:
			err = fmt.Errorf("credential %s: %v", lf.path, rerr)
		default:
			lf.v.SetString(value)
			l.o.at[lf.path] = "credential " + lf.path
		}
	})
	return err
}

// readSecret reads a secret's file: its content without the trailing line break.
func readSecret(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(data), "\r\n"), nil
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

// Size is a number of bytes; in YAML, a variable or a flag it takes a unit too (1MiB).
type Size int64

var (
	durationType = reflect.TypeOf(time.Duration(0))
	sizeType     = reflect.TypeOf(Size(0))
)

// setLeaf parses raw into v with the one parser of v's kind. fromEnv splits lists at commas.
func setLeaf(v reflect.Value, raw string, fromEnv bool) error {
	switch {
	case v.Type() == durationType:
		d, err := prefork.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%v, got %q", err, raw)
		}
		v.SetInt(int64(d))
	case v.Type() == sizeType:
		n, err := prefork.ParseSize(raw)
		if err != nil || strings.TrimSpace(raw) == "" {
			if err == nil {
				err = errors.New("must be a number of bytes, optionally with a unit (e.g. 512MiB, 1GB)")
			}
			return fmt.Errorf("%v, got %q", err, raw)
		}
		v.SetInt(n)
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		v.SetBool(b)
	case v.CanInt():
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a whole number, got %q", raw)
		}
		v.SetInt(n)
	case v.CanUint():
		n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a whole number, 0 or more, got %q", raw)
		}
		v.SetUint(n)
	case v.CanFloat():
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a number, got %q", raw)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		if fromEnv {
			for _, s := range strings.Split(raw, ",") {
				if s = strings.TrimSpace(s); s != "" {
					items = append(items, s)
				}
			}
		} else if raw != "" {
			items = []string{raw} // one value where a list goes: bind: 127.0.0.1:8000
		}
		v.Set(reflect.ValueOf(items).Convert(v.Type()))
	case fromEnv:
		return fmt.Errorf("a %s is set in the YAML files, not from a variable", v.Type())
	default:
		return errNotScalar
	}
	return nil
}

var yamlLinePrefix = regexp.MustCompile(`^line \d+: `)

// errNotScalar: a value of this type (a map, a list of numbers or of mappings...) is
// decoded by YAML itself.
var errNotScalar = errors.New("not a scalar")

// scalarKind reports whether v's type has one of the engine's parsers (setLeaf): the
// kinds a variable can set too.
func scalarKind(v reflect.Value) bool {
	switch {
	case v.Type() == durationType, v.Type() == sizeType:
		return true
	case v.Kind() == reflect.Slice:
		return v.Type().Elem().Kind() == reflect.String
	}
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// kindOf names what a value of v's type is written as.
func kindOf(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return "a duration such as 30s (or seconds: 30, 0.5)"
	case v.Type() == sizeType:
		return "a size such as 1048576 or 1MiB"
	case v.Kind() == reflect.String:
		return "a string"
	case v.Kind() == reflect.Bool:
		return "true or false"
	case v.CanInt(), v.CanUint():
		return "a whole number"
	case v.CanFloat():
		return "a number"
	case v.Kind() == reflect.Slice:
		return "a list (or one value)"
	}
	return "a mapping of keys"
}

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
