package project

import (
	"fmt"
	"net/mail"
	"strings"
)

// MaintainerRule is the form of the package maintainer (`scaffold new --maintainer`): Debian's
// Maintainer field and rpm's Packager.
const MaintainerRule = `"Full Name <email@domain>", such as "Ada Lovelace <ada@example.com>"`

// PlaceholderMaintainer stands for the maintainer of a project made without one (no
// --maintainer, no git user.name and user.email): lintian calls its .invalid host bogus, so
// a release with it is noticed; set your own in scaffold.yaml's answers and run `scaffold update`.
const PlaceholderMaintainer = "Unknown Maintainer <unknown@maintainer.invalid>"

// ValidateMaintainer checks a package maintainer and returns it in its canonical form,
// "Name <address>".
func ValidateMaintainer(s string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("maintainer %q is not allowed: %s; use %s", s, why, MaintainerRule)
	}
	// Each would be syntax somewhere it is written: goreleaser's templates, YAML, the
	// before hook's command line, Debian's field syntax.
	if strings.ContainsAny(s, "{}\"\\,$`\n\r\t") {
		return bad("it holds one of { } \" \\ , $ ` or a control character")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return bad("it is not a name and an address in angle brackets")
	}
	if strings.TrimSpace(addr.Name) == "" {
		return bad("it has no name")
	}
	_, host, _ := strings.Cut(addr.Address, "@")
	if !strings.Contains(host, ".") {
		return bad("the address has no domain")
	}
	return addr.Name + " <" + addr.Address + ">", nil
}
