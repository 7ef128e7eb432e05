package deploy

import (
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/runtime/appconfig"
)

// KubeData is what the container and Kubernetes templates see, derived from the project's
// production config and the runtime's contract (runtime/prefork: --health-bind serves
// /livez, /readyz and /startupz from the master; TERM drains up to graceful_timeout).
type KubeData struct {
	Image, ImageName, ImageTag string // Image = ImageName:ImageTag
	PullPolicy                 string // imagePullPolicy for ImageTag: pullPolicy
	Namespace                  string // "" leaves it to kubectl
	AppDir                     string // the package layout inside the image: bin/, config/, static/
	UID                        int    // numeric non-root user and group of the image
	Port, HealthPort           int
	MetricsPort                int // the master's Prometheus listener (--metrics-bind), scraped by annotation or ServiceMonitor
	Replicas, MaxReplicas      int // MaxReplicas > 0: a HorizontalPodAutoscaler
	Workers                    int // per pod, from the CPU limit

	CPURequest, CPULimit, MemoryRequest, MemoryLimit string

	ReadinessPath, ReadinessPort string // ReadinessPort is a container port name: health or http
	Readiness                    Probe  // its timings (readinessProbe)
	ProbeTimeout                 int    // timeoutSeconds of the startup probe on the health listener
	PreStop                      int    // seconds pods keep serving after endpoint removal begins; 0: none
	NativeSleep                  bool   // PreStop as lifecycle.preStop.sleep (1.30+), else the runtime's --shutdown-delay
	KubeVersion                  string // "1.N": the oldest minor the manifests are written for (--kube-version)
	Minimums                     []KubeMinimum
	MinimumVersion               string // the highest of Minimums: what the manifests need
	IngressFrom                  string // the ingress controller's namespace: the only one reaching the app's port
	DatabasePort                 int    // a PostgreSQL project: the egress the NetworkPolicy allows beside DNS
	SecretName, SecretKey        string // a PostgreSQL project: the Secret holding database.dsn, and its key
	SecretDir                    string // where the pods mount it; the app reads SecretDir/SecretKey (APP_DATABASE_DSN_FILE)
	TerminationGrace             int    // PreStop + graceful_timeout + GraceMargin, never equal to graceful_timeout
	GraceMargin                  int
	StartupPeriod                int // seconds between startup probes
	StartupFailures              int // startup probes allowed to fail: covers the app's boot limit (timeout)
	ConfigFiles                  []string
	IngressTimeout               int  // nginx-ingress proxy read/send timeouts, above the app's timeout
	UpstreamIdle                 int  // seconds the proxy in front keeps an idle connection to a pod
	KeepAlive                    int  // the pods' --keep-alive seconds: above UpstreamIdle (0: the app's own, already above)
	Migrate                      bool // a PostgreSQL project: an init container runs `migrate up` first
}

// Probe is one probe's timings.
type Probe struct {
	Bound   int // seconds the probed handler takes at most, by its own limit
	Timeout int // timeoutSeconds
	Period  int // periodSeconds
	Failure int // failureThreshold
}

// readinessProbe times a readiness probe of a handler that answers within bound seconds:
// one second more for a GC pause or CPU throttling under the limit, and a second failure
// before the pod leaves the Service, so one slow answer never pulls it out.
func readinessProbe(bound int) Probe {
	return Probe{Bound: bound, Timeout: bound + 1, Period: bound + 2, Failure: 2}
}

// readinessBound is how long the readiness handler takes at most, by its own limit: the
// master's /readyz answers within the health listener's wait (runtime/prefork healthWait,
// 1 s), the app's /readyz of a --db project bounds its ping at 1 s (web/readyz.go); any
// other route of the app is bounded by the app's timeout, capped at 5 s for a probe.
func readinessBound(port, path string, migrate bool, appTimeout int) int {
	switch {
	case port == "health", migrate && path == "/readyz":
		return 1
	case appTimeout > 0:
		return min(appTimeout, 5)
	}
	return 5
}

// KubeMinimum is a manifest feature and the Kubernetes minor it needs (on by default).
type KubeMinimum struct {
	Feature string
	Minor   int
	Note    string
}

// DefaultKubeVersion is --kube-version's default: the oldest upstream minor still supported.
// Upstream maintains the three newest minors (kubernetes.io/releases, "Release History";
// about 14 months each). On 2026-12-06 the newest released minor is 1.37 (1.37.0,
// 2026-08-26; 1.38 is due later in December), so 1.35, 1.36 and 1.37 are supported: 1.34
// reached its end of life on 2026-10-27, 1.35 reaches it on 2027-02-28. Move this with
// upstream's schedule; a cluster older than it takes --kube-version.
const DefaultKubeVersion = "1.35"

// sleepMinor is the first minor where lifecycle.preStop.sleep is on by default (beta,
// PodLifecycleSleepAction; alpha in 1.29, GA in 1.34).
const sleepMinor = 30

// kubeMinimums is every feature of the manifests newer than policy/v1 (1.21), with the
// minor that enables it by default; kubeFeatures picks those a set of manifests uses.
func kubeMinimums(k KubeData, ingress bool) []KubeMinimum {
	list := []KubeMinimum{
		{"startupProbe", 20, "GA"},
		{"policy/v1 PodDisruptionBudget", 21, "GA"},
		{"namespace label kubernetes.io/metadata.name (NetworkPolicy namespaceSelector)", 21, "on by default; GA in 1.22"},
		{"PodDisruptionBudget unhealthyPodEvictionPolicy: AlwaysAllow", 27, "beta, on by default; GA in 1.31"},
	}
	if ingress {
		list = append(list, KubeMinimum{"networking.k8s.io/v1 Ingress with ingressClassName", 19, "GA"})
	}
	if k.MaxReplicas > 0 {
		list = append(list, KubeMinimum{"autoscaling/v2 HorizontalPodAutoscaler with behavior", 23, "GA"})
	}
	if k.PreStop > 0 && k.NativeSleep {
		list = append(list, KubeMinimum{"lifecycle.preStop.sleep", sleepMinor, "beta, on by default; GA in 1.34; below 1.30, --kube-version writes the runtime's --shutdown-delay instead"})
	}
	slices.SortStableFunc(list, func(a, b KubeMinimum) int { return a.Minor - b.Minor })
	return list
}

// minKubeMinor is the oldest minor the manifests can be written for.
const minKubeMinor = 27

var kubeVersionRE = regexp.MustCompile(`^v?1\.([0-9]{1,3})(\.[0-9]+)?$`)

// parseKubeVersion reads --kube-version ("1.32", "v1.29", "1.30.2") as its minor.
func parseKubeVersion(v string) (int, error) {
	m := kubeVersionRE.FindStringSubmatch(v)
	if m == nil {
		return 0, &InputError{"--kube-version", v, fmt.Sprintf("must be a Kubernetes version 1.N such as %s", DefaultKubeVersion)}
	}
	minor, _ := strconv.Atoi(m[1])
	if minor < minKubeMinor {
		return 0, &InputError{"--kube-version", v, fmt.Sprintf("must be 1.%d or later (PodDisruptionBudget unhealthyPodEvictionPolicy is on by default from 1.%d)", minKubeMinor, minKubeMinor)}
	}
	return minor, nil
}

// postgresPort is the port database.dsn names (URL or key=value form), default 5432.
func postgresPort(dsn string) int {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if p, err := strconv.Atoi(u.Port()); err == nil && p > 0 && p < 65536 {
			return p
		}
		return 5432
	}
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "port="); ok {
			if p, err := strconv.Atoi(v); err == nil && p > 0 && p < 65536 {
				return p
			}
		}
	}
	return 5432
}

// Defaults of the container and Kubernetes targets.
const (
	defaultReplicas = 2
	defaultPreStop  = 5 // seconds: long enough for endpoint removal to reach every proxy
	imageUID        = 10001
	appDir          = "/app"
	// defaultUpstreamIdle is ingress-nginx's upstream-keepalive-timeout and an AWS ALB's
	// idle timeout; idleMargin is how much longer a pod keeps an idle connection, so the
	// proxy always closes first and never sends a request on one the pod is closing.
	defaultUpstreamIdle = 60
	idleMargin          = 15
	startupPeriod       = 2
	kubeNameRule        = "must be a Kubernetes name (RFC 1123 label): lowercase letters, digits and -, starting and ending with a letter or digit, at most 63 characters"
)

var (
	// imageRef: [registry[:port]/]path[:tag], lowercase path components; no digests.
	imageRef  = regexp.MustCompile(`^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$`)
	probePath = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*$`)
)

// kubeTargets are the targets that need KubeData.
var kubeTargets = []string{"container", "kubernetes"}

// resolveKube validates the container and Kubernetes options and fills Data.Kube; it
// runs (and can refuse input) only when one of those targets was asked for.
func resolveKube(ctx *Context) error {
	if !contains(ctx.Options.Targets, kubeTargets[0]) && !contains(ctx.Options.Targets, kubeTargets[1]) {
		return generators.ErrSkip
	}
	o, app, d := ctx.Options, ctx.App, &ctx.Data
	k := KubeData{AppDir: appDir, UID: imageUID, Port: app.Port, StartupPeriod: startupPeriod, GraceMargin: graceMargin}
	if errs := validation.IsDNS1123Label(d.Name); len(errs) > 0 {
		return &InputError{"project name (scaffold.yaml)", d.Name, kubeNameRule}
	}
	if k.Namespace = o.Namespace; k.Namespace != "" {
		if errs := validation.IsDNS1123Label(k.Namespace); len(errs) > 0 {
			return &InputError{"--namespace", k.Namespace, kubeNameRule}
		}
	}
	k.Image = or(o.Image, "localhost/"+d.Name+":dev")
	if !imageRef.MatchString(k.Image) {
		return &InputError{"--image", k.Image, "must be an image reference REPOSITORY[:TAG] such as registry.example.com/shop:1.2.0 (lowercase repository, no digest, no spaces)"}
	}
	k.ImageName, k.ImageTag = splitImage(k.Image)
	k.PullPolicy = pullPolicy(k.ImageTag)

	k.Replicas = defaultReplicas
	if o.Replicas != 0 {
		k.Replicas = o.Replicas
	}
	if k.Replicas < 1 || k.Replicas > 1000 {
		return &InputError{"--replicas", strconv.Itoa(o.Replicas), "must be between 1 and 1000"}
	}
	if o.MaxReplicas != 0 && (o.MaxReplicas <= k.Replicas || o.MaxReplicas > 1000) {
		return &InputError{"--max-replicas", strconv.Itoa(o.MaxReplicas), fmt.Sprintf("must be above --replicas (%d) and at most 1000, or 0 for no autoscaler", k.Replicas)}
	}
	k.MaxReplicas = o.MaxReplicas

	k.HealthPort = o.HealthPort
	if k.HealthPort == 0 {
		k.HealthPort = k.Port + 1
	}
	if k.HealthPort < 1 || k.HealthPort > 65535 || k.HealthPort == k.Port {
		return &InputError{"--health-port", strconv.Itoa(o.HealthPort), fmt.Sprintf("must be a port 1-65535 other than the app's (%d)", k.Port)}
	}
	k.MetricsPort = o.MetricsPort
	if k.MetricsPort == 0 {
		k.MetricsPort = k.HealthPort + 1
	}
	if k.MetricsPort < 1 || k.MetricsPort > 65535 || k.MetricsPort == k.Port || k.MetricsPort == k.HealthPort {
		return &InputError{"--metrics-port", strconv.Itoa(o.MetricsPort), fmt.Sprintf("must be a port 1-65535 other than the app's (%d) and the health port (%d)", k.Port, k.HealthPort)}
	}

	k.ReadinessPath, k.ReadinessPort = "/readyz", "health"
	switch ctx.Manifest.Answers.Database {
	case state.DatabaseSQLite:
		if contains(o.Targets, "kubernetes") {
			return &InputError{"kubernetes for a project made with --db", state.DatabaseSQLite,
				"SQLite keeps its data in one file on one host, which pods of a Deployment cannot share: use --db postgres for Kubernetes, or one host (deploy-config systemd or supervisor)"}
		}
	case state.DatabasePostgres:
		// The app's /readyz also checks the database: a pod that cannot reach it takes no
		// traffic. The master's /readyz (health port) stays the start-up and drain signal.
		k.ReadinessPort, k.Migrate = "http", true
	}
	if o.ReadinessPath != "" {
		if !probePath.MatchString(o.ReadinessPath) || strings.Contains(o.ReadinessPath, "//") {
			return &InputError{"--readiness-path", o.ReadinessPath, "must be a URL path starting with / (letters, digits and . _ ~ / - only)"}
		}
		if o.ReadinessPath != "/readyz" {
			// The app's own route (say one that checks its database), on the app's port.
			k.ReadinessPath, k.ReadinessPort = o.ReadinessPath, "http"
		}
	}

	switch {
	case o.PreStop == 0:
		k.PreStop = defaultPreStop
	case o.PreStop == -1:
	case o.PreStop < 0 || o.PreStop > 300:
		return &InputError{"--prestop", strconv.Itoa(o.PreStop), "must be seconds between 1 and 300, or -1 for no preStop sleep"}
	default:
		k.PreStop = o.PreStop
	}
	k.TerminationGrace = terminationGrace(k.PreStop, d.GracefulTimeout)
	k.KubeVersion = or(o.KubeVersion, DefaultKubeVersion)
	minor, err := parseKubeVersion(k.KubeVersion)
	if err != nil {
		return err
	}
	k.KubeVersion = "1." + strconv.Itoa(minor)
	// The image has no sleep to exec, so before the native sleep action the runtime keeps
	// serving itself (--shutdown-delay); the grace period covers it the same way.
	k.NativeSleep = minor >= sleepMinor
	k.IngressFrom = or(o.IngressFrom, "ingress-nginx")
	if errs := validation.IsDNS1123Label(k.IngressFrom); len(errs) > 0 {
		return &InputError{"--ingress-namespace", k.IngressFrom, kubeNameRule}
	}
	if ctx.Manifest.Answers.Database == state.DatabasePostgres {
		k.DatabasePort = postgresPort(ctx.App.DatabaseDSN)
		k.SecretName, k.SecretKey, k.SecretDir = d.Name+"-database", credentialName, "/run/secrets/"+d.Name
	}
	// config/ goes into the image and the ConfigMap, which anyone who can read the image or
	// the namespace reads: a password belongs in the Secret (or a file) instead.
	if DSNPassword(ctx.App.DatabaseDSN) {
		return &InputError{"database.dsn (config/, production)", appconfig.Mask(ctx.App.DatabaseDSN),
			"must not hold a password for the container and kubernetes targets: config/ is copied into the image and the ConfigMap; give the DSN as a file instead (dsn_file, APP_DATABASE_DSN_FILE, the Secret " + d.Name + "-database: deploy/README.md)"}
	}

	timeout := d.Timeout
	if timeout == 0 {
		timeout = 30
	}
	// The master gives up on a boot not ready within the app's timeout; the startup probe
	// waits that long plus a margin before the kubelet restarts the container.
	k.StartupFailures = int(math.Ceil(float64(timeout+graceMargin) / startupPeriod))
	k.Readiness = readinessProbe(readinessBound(k.ReadinessPort, k.ReadinessPath, k.Migrate, d.Timeout))
	k.ProbeTimeout = readinessBound("health", "", false, 0) + 1
	k.IngressTimeout = d.ProxyReadTimeout
	switch {
	case o.UpstreamIdle == 0:
		k.UpstreamIdle = defaultUpstreamIdle
	case o.UpstreamIdle < 1 || o.UpstreamIdle > 3600:
		return &InputError{"--upstream-idle", strconv.Itoa(o.UpstreamIdle), "must be seconds between 1 and 3600"}
	default:
		k.UpstreamIdle = o.UpstreamIdle
	}
	// The opposite of the host's nginx, which scaffold configures to close first: the
	// proxy in front of the pods is not ours to configure, so the pods outlast it.
	if keepAlive := ctx.App.KeepAlive; keepAlive <= time.Duration(k.UpstreamIdle)*time.Second {
		k.KeepAlive = k.UpstreamIdle + idleMargin
	}

	quantities := []struct {
		flag, v, def string
		to           *string
	}{
		{"--cpu-request", o.CPURequest, "250m", &k.CPURequest},
		{"--cpu-limit", o.CPULimit, "1", &k.CPULimit},
		{"--memory-request", o.MemoryRequest, "128Mi", &k.MemoryRequest},
		{"--memory-limit", o.MemoryLimit, "256Mi", &k.MemoryLimit},
	}
	parsed := make([]resource.Quantity, len(quantities))
	for i, q := range quantities {
		v := or(q.v, q.def)
		qty, err := resource.ParseQuantity(v)
		if err != nil || qty.Sign() <= 0 {
			return &InputError{q.flag, v, "must be a positive Kubernetes quantity, such as 500m or 2 (CPU) and 256Mi or 1Gi (memory)"}
		}
		parsed[i], *q.to = qty, v
	}
	for i := 0; i < len(parsed); i += 2 {
		if parsed[i].Cmp(parsed[i+1]) > 0 {
			return &InputError{quantities[i].flag, *quantities[i].to, fmt.Sprintf("must not be above %s (%s)", quantities[i+1].flag, *quantities[i+1].to)}
		}
	}
	k.Workers = WorkersFor(parsed[1].MilliValue())

	files, err := configFiles(ctx.project())
	if err != nil {
		return err
	}
	k.ConfigFiles = files
	k.Minimums = kubeMinimums(k, len(d.Domains) > 0)
	k.MinimumVersion = "1." + strconv.Itoa(k.Minimums[len(k.Minimums)-1].Minor)
	d.Kube = k
	return nil
}

// WorkersFor is the number of workers a pod runs under a CPU limit of milliCPU: one per
// whole CPU, at least one. The node's CPU count never enters: each worker's GOMAXPROCS is
// then the master's (which Go 1.25+ takes from the cgroup's CPU limit) divided among them.
func WorkersFor(milliCPU int64) int {
	return max(1, int(milliCPU/1000))
}

func splitImage(ref string) (name, tag string) {
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:]
	}
	return ref, "latest"
}

// buildTag is a tag that names one build and is never pushed again: a version (1.2.0,
// v1.2.0-rc.1, git describe's 1.2.0-3-gabc1234) or a commit (git describe --always).
var buildTag = regexp.MustCompile(`^(v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?|[0-9a-f]{7,40})$`)

// pullPolicy is the imagePullPolicy for an image tag: IfNotPresent for a tag that names one
// build (a node that holds it holds the right image, and pods start while the registry is
// down); Always for a tag that moves (latest, dev, a branch, 1.2, git describe's -dirty,
// rebuilt under one name), so a node never runs the image it pulled last time. The
// generated Makefile's image-ref applies the same rule (TestMakeImageRefPullPolicy).
func pullPolicy(tag string) string {
	if buildTag.MatchString(tag) && !strings.HasSuffix(tag, "-dirty") {
		return "IfNotPresent"
	}
	return "Always"
}

// configFiles lists the project's config/*.yaml: the ConfigMap holds each of them.
func configFiles(project fs.FS) ([]string, error) {
	matches, err := fs.Glob(project, "config/*.yaml")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range matches {
		names = append(names, path.Base(m))
	}
	return names, nil
}

// kubeFiles renders the Kubernetes target: a kustomize base, a production overlay, and a
// copy of config/ that the base's configMapGenerator reads (kustomize reads no file
// outside its own folder).
func kubeFiles(ctx *Context) error {
	if !contains(ctx.Options.Targets, "kubernetes") {
		return generators.ErrSkip
	}
	k := ctx.Data.Kube
	tmpls := []string{"kustomization.yaml", "deployment.yaml", "service.yaml", "pdb.yaml", "networkpolicy.yaml"}
	if k.MaxReplicas > 0 {
		tmpls = append(tmpls, "hpa.yaml")
	}
	if len(ctx.Data.Domains) > 0 {
		tmpls = append(tmpls, "ingress.yaml")
	}
	for _, t := range tmpls {
		if err := render(ctx, "kubernetes/base/"+t, "kubernetes/base/"+t); err != nil {
			return err
		}
	}
	if err := render(ctx, "kubernetes/production/kustomization.yaml", "kubernetes/production/kustomization.yaml"); err != nil {
		return err
	}
	for _, f := range k.ConfigFiles {
		data, err := fs.ReadFile(ctx.project(), "config/"+f)
		if err != nil {
			return err
		}
		if f == appconfig.SettingFile {
			// Only what production reads: source_tree is for a project's own checkout.
			data = withoutTopKey(data, appconfig.SourceTree)
		}
		ctx.Files.Add("kubernetes/base/config/"+f, data, 0o644)
	}
	return nil
}

// withoutTopKey drops a top-level key and its block from a YAML file, keeping every other
// line, comments included, as written.
func withoutTopKey(data []byte, key string) []byte {
	var out strings.Builder
	skip := false
	for _, line := range strings.SplitAfter(string(data), "\n") {
		text := strings.TrimRight(line, "\r\n")
		if text != "" && !strings.ContainsAny(text[:1], " \t#") {
			skip = strings.HasPrefix(text, key+":")
		}
		if !skip {
			out.WriteString(line)
		}
	}
	return []byte(strings.TrimRight(out.String(), "\n") + "\n")
}

// containerFiles renders the container target.
func containerFiles(ctx *Context) error {
	if !contains(ctx.Options.Targets, "container") {
		return generators.ErrSkip
	}
	for _, t := range []string{"Containerfile", "dockerignore", "passwd", "group", "run.README"} {
		out := t
		switch t {
		case "dockerignore":
			out = ".dockerignore"
		case "run.README":
			out = "run/README" // the image's runtime folder, with a file to say why (git keeps no empty folder)
		}
		if err := render(ctx, "container/"+t, "container/"+out); err != nil {
			return err
		}
	}
	return nil
}
