package project

import (
	"strings"
	"testing"
)

// TestModuleNameSuggestion: a name refused for its form gets the allowed one it most
// likely meant; a reserved or hopeless one gets none.
func TestModuleNameSuggestion(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Blog", "blog"}, {"my-blog", "myblog"}, {"My_Blog2", "myblog2"}, {"user.accounts", "useraccounts"},
		{"Home", ""}, {"9lives", ""}, {"---", ""}, {"HTTP", ""}, // home and http are reserved
	} {
		err := ValidateModuleName(tc.name)
		if err == nil {
			t.Fatalf("%q accepted", tc.name)
		}
		got := strings.Contains(err.Error(), "did you mean")
		if tc.want == "" && got {
			t.Errorf("%q: %v, want no suggestion", tc.name, err)
		}
		if tc.want != "" && !strings.HasSuffix(err.Error(), `; did you mean "`+tc.want+`"?`) {
			t.Errorf("%q: %v, want the suggestion %q", tc.name, err, tc.want)
		}
	}
}
