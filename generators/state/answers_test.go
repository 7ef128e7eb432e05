package state

import (
	"os/exec"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	good := []string{"demo", "shop-api", "a1", "x", "my-app-2"}
	bad := map[string]string{
		"":                      "empty",
		"go":                    "reserved",
		"test":                  "reserved",
		"main":                  "reserved",
		"internal":              "reserved",
		"vendor":                "reserved",
		"fmt":                   "standard library",
		"net":                   "standard library",
		"my app":                "lowercase letters",
		"../x":                  "lowercase letters",
		"a;b":                   "lowercase letters",
		"MyApp":                 "lowercase letters",
		"1app":                  "starting with a letter",
		"app-":                  "not ending with a hyphen",
		"a--b":                  "single hyphens",
		"a_b":                   "lowercase letters",
		"x/y":                   "lowercase letters",
		strings.Repeat("a", 33): "at most 32",
	}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}
	for n, want := range bad {
		err := ValidateName(n)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateName(%q) = %v, want an error mentioning %q", n, err, want)
		}
	}
}

func TestValidateModule(t *testing.T) {
	for _, m := range []string{"demo", "github.com/acme/shop-api", "example.com/x/v2"} {
		if err := ValidateModule(m); err != nil {
			t.Errorf("ValidateModule(%q) = %v", m, err)
		}
	}
	for _, m := range []string{"", "fmt", "net/thing", "a b", "x//y", "/abs", "go"} {
		if err := ValidateModule(m); err == nil {
			t.Errorf("ValidateModule(%q) = nil, want an error", m)
		}
	}
}

// stdRoots must cover every top-level standard library path of the Go that builds us.
func TestStdRootsMatchGoList(t *testing.T) {
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Skipf("go list std: %v", err)
	}
	have := map[string]bool{}
	for _, s := range stdRoots {
		have[s] = true
	}
	for _, p := range strings.Fields(string(out)) {
		root, _, _ := strings.Cut(p, "/")
		if root == "vendor" || root == "internal" || root == "cmd" {
			continue
		}
		if !have[root] {
			t.Errorf("standard library root %q missing from stdRoots", root)
			have[root] = true
		}
	}
}
