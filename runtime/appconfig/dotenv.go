package appconfig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DotEnvFile is read in development mode from a project's root (beside scaffold.yaml),
// as `flask run` reads .env: KEY=value lines setting APP_* variables the real environment
// has not set. It is never read in production, nor from an install.
const DotEnvFile = ".env"

// envValue is one variable with where it came from.
type envValue struct {
	value, origin string
}

// readDotEnv parses path: KEY=value, optionally after "export ", the value bare, 'single'
// (taken as written) or "double" quoted (with \" \\ \n escapes); # starts a comment
// outside quotes. A missing file is no variables.
func readDotEnv(path, name string) (map[string]envValue, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	vars := map[string]envValue{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, raw, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t'\"") {
			return nil, fmt.Errorf("%s:%d: must be KEY=value, got %q", name, n, line)
		}
		value, err := dotEnvValue(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %v", name, n, key, err)
		}
		if first, dup := vars[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s: set twice (first at %s); keep one", name, n, key, first.origin)
		}
		vars[key] = envValue{value: value, origin: fmt.Sprintf("%s:%d", name, n)}
	}
	return vars, sc.Err()
}

func dotEnvValue(raw string) (string, error) {
	switch {
	case strings.HasPrefix(raw, `"`):
		end := closingQuote(raw)
		if end < 0 {
			return "", errors.New(`a "quoted value needs its closing quote on the same line`)
		}
		v, err := strconv.Unquote(raw[:end+1])
		if err != nil {
			return "", fmt.Errorf("bad escape in %s", raw[:end+1])
		}
		return v, trailing(raw[end+1:])
	case strings.HasPrefix(raw, "'"):
		end := strings.IndexByte(raw[1:], '\'')
		if end < 0 {
			return "", errors.New("a 'quoted value needs its closing quote on the same line")
		}
		return raw[1 : end+1], trailing(raw[end+2:])
	}
	if i := strings.Index(raw, " #"); i >= 0 {
		raw = raw[:i]
	}
	return strings.TrimSpace(raw), nil
}

// closingQuote is the index of the " ending a double-quoted value, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func trailing(rest string) error {
	if rest = strings.TrimSpace(rest); rest != "" && !strings.HasPrefix(rest, "#") {
		return fmt.Errorf("text after the closing quote: %q", rest)
	}
	return nil
}

// dotEnvPath is the .env of the project whose config directory is dir.
func dotEnvPath(dir string) string { return filepath.Join(dir, "..", DotEnvFile) }
