package prefork

import "github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"

// Closest is the name in known nearest to s (case aside) when it is close enough
// to be a typo of it: at most a third of s's length, and two edits always are
// (a swap of neighbours is one edit). "" when none is. Config keys, variables,
// flags and commands all suggest through it.
func Closest(s string, known []string) string { return settings.Closest(s, known) }
