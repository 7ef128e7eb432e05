package project

import (
	"strings"
	"unicode"
)

// suggestModuleName is the module name a refused one most likely meant: lowercased, with
// what a Go package name cannot hold left out (Blog: blog, my-blog: myblog), when that is
// itself allowed; "" when nothing close is.
func suggestModuleName(name string) string {
	s := strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, name)
	if s == name || ValidateModuleName(s) != nil {
		return ""
	}
	return s
}
