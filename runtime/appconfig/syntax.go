package appconfig

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns the YAML parser's error into file:line: message. The parser often
// notices a wrong indentation only lines later; when a line at or before the one it names
// is indented in a way the lines above do not allow, that line is the one reported.
func syntaxError(file string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	lines := strings.Split(string(data), "\n")
	if bad, why := badIndent(lines, line); bad > 0 {
		return fmt.Errorf("%s:%d: %s: %q (the YAML parser stopped at line %d: %s)", file, bad, why, strings.TrimSpace(lines[bad-1]), line, msg)
	}
	if line > 0 && line <= len(lines) {
		return fmt.Errorf("%s:%d: %s: %q", file, line, msg, strings.TrimSpace(lines[line-1]))
	}
	return fmt.Errorf("%s: %s", file, msg)
}

// badIndent finds the first line indented with a tab, or, up to a few lines after upTo (0:
// all), the first
// whose indentation is deeper than the line above opens, shallower than every enclosing
// level, or that of a list's items without being one.
func badIndent(lines []string, upTo int) (int, string) {
	for i, raw := range lines {
		if text := strings.TrimLeft(raw, " "); strings.HasPrefix(text, "\t") {
			return i + 1, "indented with a tab (YAML takes spaces only)"
		}
	}
	// The parser names the start of the construct it could not finish, a few lines
	// before the one that broke it.
	if upTo += 5; upTo <= 5 || upTo > len(lines) {
		upTo = len(lines)
	}
	type level struct {
		indent int
		list   bool // its lines are "- " items
	}
	levels := []level{{}}
	opens := false // the previous content line ends a key with ":"
	block := -1    // indentation of a block scalar's key: deeper lines are its text
	for i := 0; i < upTo; i++ {
		raw := lines[i]
		text := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if block >= 0 {
			if indent > block {
				continue
			}
			block = -1
		}
		content := stripComment(text)
		item := strings.HasPrefix(content, "- ") || content == "-"
		top := levels[len(levels)-1].indent
		switch {
		case indent > top && !opens:
			return i + 1, fmt.Sprintf("indented %d spaces, deeper than the line above allows", indent)
		case indent > top:
			levels = append(levels, level{indent: indent, list: item})
		default:
			for len(levels) > 1 && levels[len(levels)-1].indent > indent {
				levels = levels[:len(levels)-1]
			}
			cur := &levels[len(levels)-1]
			if cur.indent != indent {
				var at []string
				for _, l := range levels {
					at = append(at, strconv.Itoa(l.indent))
				}
				return i + 1, fmt.Sprintf("indented %d spaces, which matches no enclosing level (%s)", indent, strings.Join(at, ", "))
			}
			if cur.list && !item {
				return i + 1, fmt.Sprintf("indented %d spaces, like the list items above it: a key of the enclosing section goes further left", indent)
			}
			cur.list = item
		}
		// A list item's own keys sit two columns in: "- name: x" then "  port: 1".
		if item {
			content = strings.TrimSpace(strings.TrimPrefix(content, "-"))
			if content != "" {
				levels = append(levels, level{indent: indent + 2})
			}
		}
		opens = strings.HasSuffix(content, ":") || content == ""
		for _, b := range []string{"|", ">", "|-", ">-", "|+", ">+"} {
			if strings.HasSuffix(content, ": "+b) || content == b {
				block, opens = indent, false
			}
		}
	}
	return 0, ""
}

// stripComment drops a trailing " # comment" outside quotes.
func stripComment(s string) string {
	inSingle, inDouble := false, false
	for i, r := range s {
		switch {
		case r == '\'' && !inDouble:
			inSingle = !inSingle
		case r == '"' && !inSingle:
			inDouble = !inDouble
		case r == '#' && !inSingle && !inDouble && i > 0 && s[i-1] == ' ':
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimSpace(s)
}
