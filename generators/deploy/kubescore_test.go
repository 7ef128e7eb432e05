package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/k8stest"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// kube-score finds nothing critical in what `kubectl kustomize` makes of the production
// overlay, for every variant, except the checks the generated README explains.
func TestKubeScore(t *testing.T) {
	score := testenv.Tool(t, "kube-score", "go install github.com/zegl/kube-score/cmd/kube-score@v1.20.0")
	kubectl := filepath.Join(k8stest.BinDir, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		if os.Getenv(testenv.RequireTools) == "1" {
			t.Fatalf("%s missing (%s=1): %s", kubectl, testenv.RequireTools, installK8s)
		}
		t.Skipf("%s missing (kubectl kustomize): %s", kubectl, installK8s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for name, opts := range kubeVariants {
		t.Run(name, func(t *testing.T) {
			dir := newProject(t, "demo")
			gen := writeDeploy(t, dir, opts)
			out := filepath.Join(dir, "deploy")
			manifests := runCmd(t, ctx, os.Environ(), "", kubectl, "kustomize", filepath.Join(out, "kubernetes", "production"))
			args := []string{"score", "--output-format", "ci"}
			readme, _ := gen.Files.Get("README.md")
			for _, check := range KubeScoreIgnored {
				args = append(args, "--ignore-test", check)
				if !bytes.Contains(readme.Data, []byte("`"+check+"`")) {
					t.Errorf("kube-score's %s is ignored, but the generated README does not say why", check)
				}
			}
			cmd := exec.CommandContext(ctx, score, append(args, "-")...)
			cmd.Stdin = strings.NewReader(manifests)
			report, err := cmd.CombinedOutput()
			if err != nil || bytes.Contains(report, []byte("[CRITICAL]")) {
				t.Errorf("kube-score: %v\n%s", err, report)
			}
			t.Logf("kube-score warnings:\n%s", grepLines(string(report), "[WARNING]"))
		})
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
