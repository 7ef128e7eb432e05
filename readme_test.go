package scaffold

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEFirstCommandLeavesTheClone: the README's first commands are run in the clone;
// the one that makes a project must leave it first, or demo/ lands inside scaffold's own
// module (its `go test ./...` and `git status` then pick it up).
func TestREADMEFirstCommandLeavesTheClone(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindSubmatch(data)
	if block == nil {
		t.Fatal("README.md has no sh block")
	}
	left := false
	for _, line := range strings.Split(string(block[1]), "\n") {
		for _, step := range strings.Split(line, "&&") {
			step = strings.TrimSpace(step)
			if strings.HasPrefix(step, "cd ..") || strings.HasPrefix(step, "cd /") || strings.HasPrefix(step, `cd "$(mktemp`) {
				left = true
			}
			if strings.Contains(step, "scaffold new") && !left {
				t.Errorf("README.md's first block runs %q inside the clone", step)
			}
		}
	}
	if !strings.Contains(string(block[1]), "scaffold new") {
		t.Error("README.md's first block does not show scaffold new")
	}
}
