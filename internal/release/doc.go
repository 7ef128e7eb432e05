// Package release holds no code: its tests check scaffold's release setup with the real
// tools. goreleaser validates and runs scaffold's own .goreleaser.yaml (a snapshot binary
// whose `version` names the snapshot) and a generated project's (a .deb that installs the
// binary, the config as conffiles, the static files and the systemd units, and that serves
// from the installed layout); actionlint checks both sets of GitHub workflows; shellcheck
// and stubbed commands check the package's maintainer scripts.
//
// A missing tool skips its test with a message, or fails it under SCAFFOLD_REQUIRE_TOOLS=1.
package release
