package release

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

const (
	installLintian = "apt-get install lintian"
	installRpmlint = "apt-get install rpmlint"
)

// lintFindings are the error and warning lines of a linter's output: lintian's "E: pkg: tag"
// and "W: ...", rpmlint's "pkg.arch: E: tag" and "...: W: ...". Information and pedantic
// lines, and the summaries, are not findings.
func lintFindings(out string) []string {
	var found []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") ||
			strings.Contains(line, ": E: ") || strings.Contains(line, ": W: ") {
			found = append(found, line)
		}
	}
	return found
}

// lintDeb runs lintian on a .deb and fails on any error or warning: the package's own
// overrides (/usr/share/lintian/overrides/NAME, each with its reason) are the only
// allowance. used are overrides the package must have used (lintian lists them with
// --show-overrides), so an override file that stopped being read fails too.
func lintDeb(t *testing.T, deb string, used ...string) {
	t.Helper()
	lintian := testenv.Tool(t, "lintian", installLintian)
	// lintian's exit status says only that something was found, at any level: the
	// findings are read from its output.
	out, err := exec.Command(lintian, "--show-overrides", "--display-info", "--pedantic", deb).CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Fatalf("lintian %s: %v", filepath.Base(deb), err)
	}
	if found := lintFindings(string(out)); len(found) > 0 {
		t.Errorf("lintian finds %d errors and warnings in %s:\n%s\nfull output:\n%s", len(found), filepath.Base(deb), strings.Join(found, "\n"), out)
	}
	for _, tag := range used {
		found := false
		for _, line := range strings.Split(string(out), "\n") {
			found = found || strings.HasPrefix(line, "O: ") && strings.Contains(line, ": "+tag)
		}
		if !found {
			t.Errorf("lintian did not use the override for %s in %s:\n%s", tag, filepath.Base(deb), out)
		}
	}
}

// lintRPM runs rpmlint with config (the repository's rpmlint.toml, each setting with its
// reason) on an .rpm and fails on any error or warning. nfpm writes the payload's paths
// absolute, and rpmlint unpacks with `rpm2cpio | cpio -id`: a cpio first in PATH adds
// --no-absolute-filenames, so nothing lands in / (the test fails if rpmlint did not use it).
func lintRPM(t *testing.T, rpm, config string) {
	t.Helper()
	rpmlint, cpio := testenv.Tool(t, "rpmlint", installRpmlint), testenv.Tool(t, "cpio")
	shim := t.TempDir()
	used := filepath.Join(shim, "used")
	script := "#!/bin/sh\n: > '" + used + "'\nexec '" + cpio + "' --no-absolute-filenames \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shim, "cpio"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rpmlint, "-c", config, rpm)
	cmd.Env = append(os.Environ(), "PATH="+shim+string(filepath.ListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if _, statErr := os.Stat(used); statErr != nil {
		t.Fatalf("rpmlint did not unpack %s with the test's cpio (%v); output:\n%s", filepath.Base(rpm), err, out)
	}
	if !strings.Contains(string(out), "1 packages and 0 specfiles checked") {
		t.Fatalf("rpmlint %s did not check the package: %v\n%s", filepath.Base(rpm), err, out)
	}
	if found := lintFindings(string(out)); len(found) > 0 {
		t.Errorf("rpmlint finds %d errors and warnings in %s:\n%s\nfull output:\n%s", len(found), filepath.Base(rpm), strings.Join(found, "\n"), out)
	}
}

// rpmFiles lists an .rpm's payload, one absolute path a line.
func rpmFiles(t *testing.T, rpm string) string {
	t.Helper()
	rpm2cpio, cpio := testenv.Tool(t, "rpm2cpio"), testenv.Tool(t, "cpio")
	return run(t, filepath.Dir(rpm), "sh", "-c", `"$0" "$1" | "$2" -t --quiet`, rpm2cpio, rpm, cpio)
}

// TestLintFindings: the parser counts errors and warnings of both linters' formats and
// nothing else.
func TestLintFindings(t *testing.T) {
	out := `E: demo: no-copyright-file
W: demo: no-manual-page [usr/bin/demo]
I: demo: synopsis-is-a-sentence "x"
P: demo: debian-changelog-line-too-short init
O: demo: statically-linked-binary [usr/bin/demo]
N: 1 hint overridden (1 error)
demo.x86_64: E: no-signature
demo.x86_64: W: no-url-tag
 1 packages and 0 specfiles checked; 1 errors, 1 warnings, 1 badness; has taken 0.2 s
`
	got := lintFindings(out)
	want := []string{"E: demo: no-copyright-file", "W: demo: no-manual-page [usr/bin/demo]", "demo.x86_64: E: no-signature", "demo.x86_64: W: no-url-tag"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lintFindings = %q, want %q", got, want)
	}
}

// A tagged release (not a snapshot) of a fresh project passes both linters too: its
// packages are version 1.0.0-1 and so is the changelog's one entry, in the .deb's
// changelog.Debian.gz and the .rpm's %changelog (a snapshot's X.Y.Z-next cannot say so in
// nfpm's format). Nothing is published: publish, announce and validate are skipped, and
// the token goreleaser wants before it skips them is a dummy.
func TestProjectTaggedReleaseLint(t *testing.T) {
	gr, git := testenv.Tool(t, "goreleaser", installGoreleaser), testenv.Tool(t, "git")
	dpkgDeb := testenv.Tool(t, "dpkg-deb")
	dir := generateWith(t, project.Options{Name: "demo", Maintainer: "Ada Lovelace <ada@example.com>"})
	gitInit(t, git, dir)
	run(t, dir, git, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gr, "release", "--clean", "--skip=publish,announce,validate")
	cmd.Dir = dir
	cmd.Env = testenv.OfflineGoEnv(append(gitEnv, "GITHUB_TOKEN=not-used")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser release of v1.0.0: %v\n%s", err, out)
	}
	deb := findArtifact(t, dir, "Linux Package", func(a artifact) bool { return strings.HasSuffix(a.Name, "_1.0.0-1_amd64.deb") })
	rpm := findArtifact(t, dir, "Linux Package", func(a artifact) bool { return strings.HasSuffix(a.Name, "-1.0.0-1.x86_64.rpm") })
	lintDeb(t, deb, "statically-linked-binary", "initial-upload-closes-no-bugs")
	lintRPM(t, rpm, filepath.Join(dir, "packaging", "rpmlint.toml"))

	root := t.TempDir()
	run(t, dir, dpkgDeb, "-x", deb, root)
	changelog := run(t, root, "sh", "-c", "gzip -dc usr/share/doc/demo/changelog.Debian.gz")
	if !strings.HasPrefix(changelog, "demo (1.0.0-1) unstable; urgency=medium\n  * scaffold new\n") || !strings.Contains(changelog, "\n -- Ada Lovelace <ada@example.com>  ") {
		t.Errorf("the .deb's changelog is not the release's entry by its maintainer:\n%s", changelog)
	}
}
