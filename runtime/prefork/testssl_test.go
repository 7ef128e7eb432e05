package prefork

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testssl.sh grades the TLS the runtime serves itself: TLS 1.2 and 1.3
// offered, nothing older, no CBC suite, no finding it calls VULNERABLE.
func TestTestsslGradesRuntimeTLS(t *testing.T) {
	if raceOn {
		t.Skip("testssl.sh grades the TLS configuration, not the code: once, in the run without -race")
	}
	testssl := needTool(t, "testssl", "apt-get install testssl.sh")
	dir := t.TempDir()
	cert, key, _ := writeTestCert(t, dir, 7)
	addr := serveInProcess(t, Config{Values: Values{CertFile: cert, KeyFile: key}}, "tcp")
	findings := runTestssl(t, testssl, addr)
	want := map[string]string{"TLS1_2": "offered", "TLS1_3": "offered", "TLS1": "not offered", "TLS1_1": "not offered", "SSLv3": "not offered"}
	for id, w := range want {
		if got := findings[id]; !strings.HasPrefix(got, w) {
			t.Errorf("testssl %s: %q, want %q", id, got, w)
		}
	}
	checkNoWeakCiphers(t, findings)
}

// checkNoWeakCiphers: testssl.sh 3.0 files the obsolete CBC suites under
// cipherlist_AVERAGE (3.2 renamed it cipherlist_OBSOLETED).
func checkNoWeakCiphers(t *testing.T, findings map[string]string) {
	t.Helper()
	for _, id := range []string{"cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA"} {
		if got := findings[id]; got != "not offered" {
			t.Errorf("testssl %s: %q, want not offered", id, got)
		}
	}
	cbc, ok := findings["cipherlist_OBSOLETED"]
	if !ok {
		cbc = findings["cipherlist_AVERAGE"]
	}
	if cbc != "not offered" {
		t.Errorf("testssl: obsolete CBC ciphers: %q, want not offered", cbc)
	}
}

// runTestssl runs testssl.sh's protocol, cipher-category and vulnerability
// checks on addr and returns finding by id; any VULNERABLE finding fails t.
func runTestssl(t *testing.T, testssl, addr string) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "testssl.json")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testssl, "--quiet", "--color", "0", "--warnings", "off", "--ip", "one",
		"-p", "-s", "-U", "--jsonfile", out, addr)
	b, err := cmd.CombinedOutput()
	js, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatalf("testssl.sh %s: %v %v\n%s", addr, err, rerr, b)
	}
	var items []struct{ ID, Severity, Finding string }
	if err := json.Unmarshal(js, &items); err != nil {
		t.Fatalf("testssl.sh JSON: %v", err)
	}
	findings := map[string]string{}
	for _, it := range items {
		findings[it.ID] = it.Finding
		if strings.Contains(it.Finding, "VULNERABLE") && !strings.Contains(it.Finding, "not vulnerable") {
			t.Errorf("testssl.sh: %s: %s (%s)", it.ID, it.Finding, it.Severity)
		}
	}
	t.Logf("testssl.sh on %s: TLS1_2=%q TLS1_3=%q obsolete CBC=%q", addr, findings["TLS1_2"], findings["TLS1_3"], findings["cipherlist_AVERAGE"]+findings["cipherlist_OBSOLETED"])
	return findings
}
