package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// VerifyMaxExposure is the highest `systemd-analyze security` score Verify accepts of a
// service unit as edited: systemd's own "SAFE" band. The generated unit measures
// MaxExposure, which leaves room for an edit that opens one path or capability.
const VerifyMaxExposure = 2.0

// KubeScoreIgnored are the kube-score checks the generated README justifies skipping.
var KubeScoreIgnored = []string{"container-image-pull-policy"}

// VerifyReport is what Verify ran: each check that passed, each that a missing tool could
// not run (with how to install it), and what a check run with a stand-in did not cover.
type VerifyReport struct {
	Passed, Skipped, Notes []string
}

// Finding is a cross-layer rule broken by a file as it is on disk.
type Finding struct {
	File   string // as the user names it: deploy/nginx/demo.conf
	Line   int
	Detail string // the value found, and the app's it is held against
	Rule   string
}

func (f *Finding) Error() string {
	at := f.File
	if f.Line > 0 {
		at += ":" + strconv.Itoa(f.Line)
	}
	return fmt.Sprintf("%s: %s\n    rule: %s", at, f.Detail, f.Rule)
}

// RuleStrictDecode is the rule of a manifest the API server would refuse.
const RuleStrictDecode = "a manifest decodes strictly into its Kubernetes type, as the API server reads it: no unknown field, no wrong type"

// Verify checks the deploy files in dir/out (out relative to dir, as deploy-config's
// --out), as they are on disk, edited or not: every check that applies to the files found
// runs (nginx -t, systemd-analyze verify and security, a strict decode of the manifests
// and kube-score on the production overlay, promtool on monitoring/), and the cross-layer
// timeout rules are held against the app's config/ as the app reads it in production.
// A missing tool is reported as skipped, not failed.
func Verify(ctx context.Context, dir, out string) (*VerifyReport, error) {
	m, err := state.ReadManifest(os.DirFS(dir), dir)
	if err != nil {
		return nil, err
	}
	app, err := LoadAppConfig(dir)
	if err != nil {
		return nil, err
	}
	if out == "" {
		out = "deploy"
	}
	o, err := Locate(dir, out)
	if err != nil {
		return nil, err
	}
	root := o.Path
	// Files are named in messages by their path from the project folder, as given.
	folder := path.Clean(filepath.ToSlash(out)) + "/"
	name := m.Name
	files := generators.NewFileSet()
	for _, p := range []string{
		"nginx/" + name + ".conf", DefaultServerFile,
		"systemd/" + name + ".service", "systemd/" + name + ".socket",
		"supervisor/" + name + ".conf",
	} {
		if data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p))); err == nil {
			files.Add(p, data, 0)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	manifests, err := filepath.Glob(filepath.Join(root, "kubernetes", "base", "*.yaml"))
	if err != nil {
		return nil, err
	}
	for _, p := range manifests {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files.Add("kubernetes/base/"+filepath.Base(p), data, 0)
	}
	if files.Len() == 0 {
		return nil, fmt.Errorf("%s: no nginx, systemd, supervisor or Kubernetes file of %s to verify: run `scaffold deploy-config all` first (or give its --out)", folder, name)
	}

	// The pods read the copy of config/ in the base (the ConfigMap), not config/ itself.
	podApp, podSource := app, "config/, production"
	if len(manifests) > 0 {
		base := filepath.Join(root, "kubernetes", "base")
		if _, err := os.Stat(filepath.Join(base, "config")); err == nil {
			if podApp, err = LoadAppConfig(base); err != nil {
				return nil, err
			}
			podSource = folder + "kubernetes/base/config/, production: the pods' ConfigMap"
		}
	}

	c := &Context{Dir: dir, Data: Data{Name: name}, Files: files}
	r := c.checkHost(ctx, folder, VerifyMaxExposure, true)
	var findings []error
	for _, f := range files.Files() {
		var found []*Finding
		switch {
		case f.Path == "nginx/"+name+".conf":
			found = nginxTimeouts(f.Data, app)
		case f.Path == "systemd/"+name+".service":
			found = systemdTimeouts(f.Data, app)
		case f.Path == "supervisor/"+name+".conf":
			found = supervisorTimeouts(f.Data, app)
		case strings.HasPrefix(f.Path, "kubernetes/base/"):
			var err error
			found, err = manifestTimeouts(f.Data, name, podApp, podSource)
			if err != nil {
				r.errs = append(r.errs, fmt.Errorf("%s%s: %w", folder, f.Path, err))
			}
		}
		for _, x := range found {
			x.File = folder + f.Path
			findings = append(findings, x)
		}
	}
	sort.Slice(findings, func(i, j int) bool {
		a, b := findings[i].(*Finding), findings[j].(*Finding)
		return a.File < b.File || a.File == b.File && a.Line < b.Line
	})
	if len(findings) == 0 {
		r.passed = append(r.passed, "timeouts: nginx, the service manager and the pods agree with config/ ("+strings.Join(ruleNames, "; ")+")")
	}
	r.errs = append(r.errs, findings...)
	if len(manifests) > 0 {
		kubeScore(ctx, filepath.Join(root, "kubernetes", "production"), folder+"kubernetes/production", r)
	}
	promtool(ctx, dir, r)
	return &VerifyReport{Passed: r.passed, Skipped: r.skipped, Notes: r.notes}, errors.Join(r.errs...)
}

// ruleNames are the timeout rules in short, for the passed line.
var ruleNames = []string{"nginx waits longer than the app", "the app's keep-alive outlasts nginx's", "the service manager waits longer than the drain", "the grace period covers preStop + graceful timeout"}

// nginxDirective is one simple directive of an nginx file, with the block it is in.
type nginxDirective struct {
	Name  string
	Args  []string
	Line  int
	Block string // the innermost enclosing block's name: "upstream", "location", "" at the top
}

// nginxDirectives reads the simple directives of an nginx file (quotes and comments as
// nginx reads them). It is no validator: nginx -t is.
func nginxDirectives(data []byte) []nginxDirective {
	var (
		out    []nginxDirective
		blocks []string
		words  []string
		word   strings.Builder
		inWord bool
		line   = 1
		start  = 0
		quote  byte
	)
	flush := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(data); i++ {
		ch := data[i]
		if quote != 0 {
			if ch == '\\' && i+1 < len(data) {
				i++
				word.WriteByte(data[i])
				continue
			}
			if ch == quote {
				quote = 0
			} else {
				if ch == '\n' {
					line++
				}
				word.WriteByte(ch)
			}
			continue
		}
		switch ch {
		case '\n', ' ', '\t', '\r':
			flush()
			if ch == '\n' {
				line++
			}
		case '#':
			flush()
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			if !inWord && len(words) == 0 {
				start = line
			}
			quote, inWord = ch, true
		case ';', '{', '}':
			flush()
			switch ch {
			case ';':
				if len(words) > 0 {
					out = append(out, nginxDirective{Name: words[0], Args: words[1:], Line: start, Block: last(blocks)})
				}
			case '{':
				b := ""
				if len(words) > 0 {
					b = words[0]
				}
				blocks = append(blocks, b)
			case '}':
				if len(blocks) > 0 {
					blocks = blocks[:len(blocks)-1]
				}
			}
			words = nil
		default:
			if !inWord && len(words) == 0 {
				start = line
			}
			inWord = true
			word.WriteByte(ch)
		}
	}
	return out
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

var nginxTimeUnit = regexp.MustCompile(`([0-9]+)(ms|s|m|h|d|w|M|y)?`)

// parseNginxTime reads nginx's time syntax: "30s", "1m30s", "1500ms", "60" (seconds).
func parseNginxTime(v string) (time.Duration, bool) {
	units := map[string]time.Duration{"ms": time.Millisecond, "": time.Second, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "M": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour}
	all := nginxTimeUnit.FindAllStringSubmatchIndex(v, -1)
	if len(all) == 0 {
		return 0, false
	}
	var d time.Duration
	end := 0
	for _, m := range all {
		if m[0] != end {
			return 0, false
		}
		n, err := strconv.Atoi(v[m[2]:m[3]])
		if err != nil {
			return 0, false
		}
		unit := ""
		if m[4] >= 0 {
			unit = v[m[4]:m[5]]
		}
		d += time.Duration(n) * units[unit]
		end = m[1]
	}
	if end != len(v) {
		return 0, false
	}
	return d, true
}

// nginxTimeouts holds the site's read timeouts and its upstream keepalive_timeout against
// the app's timeout and keep_alive.
func nginxTimeouts(data []byte, app AppConfig) []*Finding {
	var out []*Finding
	for _, d := range nginxDirectives(data) {
		if len(d.Args) != 1 {
			continue
		}
		v, ok := parseNginxTime(d.Args[0])
		switch {
		case d.Name == "proxy_read_timeout" || d.Name == "uwsgi_read_timeout" || d.Name == "fastcgi_read_timeout":
			if ok && !proxyReadOK(v, app.Timeout) {
				out = append(out, &Finding{Line: d.Line, Rule: RuleProxyRead,
					Detail: fmt.Sprintf("%s %s is not above the app's server.timeout %s (config/, production)", d.Name, d.Args[0], app.Timeout)})
			}
		case d.Name == "keepalive_timeout" && d.Block == "upstream":
			if ok && !upstreamIdleOK(v, app.KeepAlive) {
				out = append(out, &Finding{Line: d.Line, Rule: RuleUpstreamIdle,
					Detail: fmt.Sprintf("upstream keepalive_timeout %s is not below the app's server.keep_alive %s (config/, production)", d.Args[0], app.KeepAlive)})
			}
		}
	}
	return out
}

var systemdTimeUnits = map[string]time.Duration{
	"us": time.Microsecond, "usec": time.Microsecond, "ms": time.Millisecond, "msec": time.Millisecond,
	"": time.Second, "s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
}

var (
	systemdTimeSpan = regexp.MustCompile(`^\s*([0-9]+\s*[a-z]*\s*)+$`)
	systemdTimePart = regexp.MustCompile(`([0-9]+)\s*([a-z]*)`)
)

// parseSystemdTime reads a systemd time span: "40", "40s", "1min 30s", "infinity".
func parseSystemdTime(v string) (time.Duration, bool) {
	if strings.TrimSpace(v) == "infinity" {
		return time.Duration(1<<63 - 1), true
	}
	if !systemdTimeSpan.MatchString(v) {
		return 0, false
	}
	var d time.Duration
	for _, m := range systemdTimePart.FindAllStringSubmatch(v, -1) {
		unit, ok := systemdTimeUnits[m[2]]
		if !ok {
			return 0, false
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return 0, false
		}
		d += time.Duration(n) * unit
	}
	return d, true
}

// systemdTimeouts holds the service's stop timeout against the app's graceful_timeout.
func systemdTimeouts(data []byte, app AppConfig) []*Finding {
	var out []*Finding
	for i, l := range strings.Split(string(data), "\n") {
		key, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || (key != "TimeoutStopSec" && key != "TimeoutSec") {
			continue
		}
		if wait, ok := parseSystemdTime(v); ok && !stopWaitOK(wait, app.GracefulTimeout) {
			out = append(out, &Finding{Line: i + 1, Rule: RuleStopWait,
				Detail: fmt.Sprintf("%s=%s is not above the app's server.graceful_timeout %s (config/, production)", key, v, app.GracefulTimeout)})
		}
	}
	return out
}

// supervisorTimeouts holds the program's stopwaitsecs against the app's graceful_timeout.
func supervisorTimeouts(data []byte, app AppConfig) []*Finding {
	var out []*Finding
	for i, l := range strings.Split(string(data), "\n") {
		key, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(key) != "stopwaitsecs" {
			continue
		}
		v = strings.TrimSpace(v)
		if n, err := strconv.Atoi(v); err == nil && !stopWaitOK(time.Duration(n)*time.Second, app.GracefulTimeout) {
			out = append(out, &Finding{Line: i + 1, Rule: RuleStopWait,
				Detail: fmt.Sprintf("stopwaitsecs=%s is not above the app's server.graceful_timeout %s (config/, production)", v, app.GracefulTimeout)})
		}
	}
	return out
}

// manifestKinds are the objects the base may hold, by kind, decoded strictly: an unknown
// field or a wrong type fails, as the API server would refuse it.
var manifestKinds = map[string]func() any{
	"Deployment":              func() any { return &appsv1.Deployment{} },
	"Service":                 func() any { return &corev1.Service{} },
	"PodDisruptionBudget":     func() any { return &policyv1.PodDisruptionBudget{} },
	"NetworkPolicy":           func() any { return &networkingv1.NetworkPolicy{} },
	"HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"Ingress":                 func() any { return &networkingv1.Ingress{} },
}

var unknownField = regexp.MustCompile(`unknown field "(?:[^"]*\.)?([^".]+)"`)

// manifestTimeouts decodes a manifest of the base strictly and holds a Deployment's grace
// period against its preStop wait and the app's graceful_timeout. kustomization.yaml is
// kustomize's, not the API server's, and is left to kubectl kustomize.
func manifestTimeouts(data []byte, name string, app AppConfig, source string) ([]*Finding, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, err
	}
	if head.Kind == "Kustomization" || head.Kind == "" {
		return nil, nil
	}
	obj, known := manifestKinds[head.Kind]
	if !known {
		return nil, nil
	}
	into := obj()
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		f := &Finding{Rule: RuleStrictDecode, Detail: fmt.Sprintf("%s: %v", head.Kind, err)}
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			f.Line = lineOf(data, m[1]+":")
		}
		return []*Finding{f}, nil
	}
	if ing, ok := into.(*networkingv1.Ingress); ok {
		var out []*Finding
		for _, key := range []string{"nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout"} {
			v, has := ing.Annotations[key]
			if n, err := strconv.Atoi(v); has && err == nil && !proxyReadOK(time.Duration(n)*time.Second, app.Timeout) {
				out = append(out, &Finding{Line: max(lineOf(data, key+":"), 1), Rule: RuleProxyRead,
					Detail: fmt.Sprintf("%s %q is not above the app's server.timeout %s (%s)", key, v, app.Timeout, source)})
			}
		}
		return out, nil
	}
	dep, ok := into.(*appsv1.Deployment)
	if !ok {
		return nil, nil
	}
	spec := dep.Spec.Template.Spec
	grace := 30 // the API server's default
	if spec.TerminationGracePeriodSeconds != nil {
		grace = int(*spec.TerminationGracePeriodSeconds)
	}
	preStop := 0
	for _, c := range spec.Containers {
		if c.Name != name && len(spec.Containers) > 1 {
			continue
		}
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
			preStop = int(c.Lifecycle.PreStop.Sleep.Seconds)
		}
		for i, a := range c.Args {
			if a == "--shutdown-delay" && i+1 < len(c.Args) {
				if d, ok := parseDelay(c.Args[i+1]); ok {
					preStop = max(preStop, seconds(d))
				}
			}
		}
	}
	graceful := seconds(max(app.GracefulTimeout, 0))
	if graceOK(grace, preStop, graceful) {
		return nil, nil
	}
	return []*Finding{{Line: max(lineOf(data, "terminationGracePeriodSeconds:"), 1), Rule: RuleGrace,
		Detail: fmt.Sprintf("terminationGracePeriodSeconds %d is below preStop %d + server.graceful_timeout %d (%s) + %d = %d",
			grace, preStop, graceful, source, graceMargin, terminationGrace(preStop, graceful))}}, nil
}

// parseDelay reads the runtime's --shutdown-delay: seconds, or a Go duration.
func parseDelay(v string) (time.Duration, bool) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, true
	}
	d, err := time.ParseDuration(v)
	return d, err == nil
}

// lineOf is the 1-based line of the first line of data whose text, trimmed, starts with
// prefix (a "- " list marker aside); 0 when none does.
func lineOf(data []byte, prefix string) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimPrefix(strings.TrimSpace(l), "- "), prefix) {
			return i + 1
		}
	}
	return 0
}

// kubeScore runs kube-score on what kubectl kustomize makes of the production overlay
// (what is applied), and fails on a critical finding not in KubeScoreIgnored.
func kubeScore(ctx context.Context, overlay, name string, r *checkReport) {
	if _, err := os.Stat(filepath.Join(overlay, "kustomization.yaml")); err != nil {
		r.notes = append(r.notes, fmt.Sprintf("kube-score (no %s/kustomization.yaml: nothing is applied from there)", name))
		return
	}
	score, err := exec.LookPath("kube-score")
	if err != nil {
		r.skipped = append(r.skipped, missing("kube-score", "kube-score"))
		return
	}
	build := func() *exec.Cmd { return nil }
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		build = func() *exec.Cmd { return exec.CommandContext(ctx, kubectl, "kustomize", overlay) }
	} else if kustomize, err := exec.LookPath("kustomize"); err == nil {
		build = func() *exec.Cmd { return exec.CommandContext(ctx, kustomize, "build", overlay) }
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	cmd := build()
	if cmd == nil {
		r.skipped = append(r.skipped, missing("kube-score", "kubectl"))
		return
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	manifests, err := cmd.Output()
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: kustomize: %v\n%s", name, err, bytes.TrimSpace(stderr.Bytes())))
		return
	}
	args := []string{"score", "--output-format", "ci"}
	for _, check := range KubeScoreIgnored {
		args = append(args, "--ignore-test", check)
	}
	run := exec.CommandContext(ctx, score, append(args, "-")...)
	run.Stdin = bytes.NewReader(manifests)
	report, err := run.CombinedOutput()
	var critical []string
	for _, l := range strings.Split(string(report), "\n") {
		if strings.HasPrefix(l, "[CRITICAL]") {
			critical = append(critical, "    "+l)
		}
	}
	switch {
	case len(critical) > 0:
		r.errs = append(r.errs, fmt.Errorf("%s: kube-score finds critical problems (README.md says why %s are ignored):\n%s", name, strings.Join(KubeScoreIgnored, ", "), strings.Join(critical, "\n")))
	case err != nil:
		r.errs = append(r.errs, fmt.Errorf("%s: kube-score: %v\n%s", name, err, bytes.TrimSpace(report)))
	default:
		r.passed = append(r.passed, "kube-score: nothing critical in the production overlay")
	}
}

// promtool checks the project's alerting rules and runs their unit tests, where there are.
func promtool(ctx context.Context, dir string, r *checkReport) {
	rules := filepath.Join(dir, "monitoring", "alerts.yml")
	if _, err := os.Stat(rules); err != nil {
		return
	}
	bin, err := exec.LookPath("promtool")
	if err != nil {
		r.skipped = append(r.skipped, missing("promtool check rules", "promtool"))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	runs := [][]string{{"check", "rules", "monitoring/alerts.yml"}}
	if _, err := os.Stat(filepath.Join(dir, "monitoring", "alerts_test.yml")); err == nil {
		runs = append(runs, []string{"test", "rules", "monitoring/alerts_test.yml"})
	}
	for _, args := range runs {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, bytes.TrimSpace(out)))
			continue
		}
		r.passed = append(r.passed, "promtool "+strings.Join(args, " "))
	}
}
