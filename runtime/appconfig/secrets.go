package appconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
