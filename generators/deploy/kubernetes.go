package deploy

import (
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/project"
)

// KubeData is what the container and Kubernetes templates see, derived from the project's
// production config and the runtime's contract (runtime/prefork: --health-bind serves
// /livez, /readyz and /startupz from the master; TERM drains up to graceful_timeout).
type KubeData struct {
	Image, ImageName, ImageTag string // Image = ImageName:ImageTag
	Namespace                  string // "" leaves it to kubectl
	AppDir                     string // the package layout inside the image: bin/, config/, static/
	UID                        int    // numeric non-root user and group of the image
	Port, HealthPort           int
	MetricsPort                int // the master's Prometheus listener (--metrics-bind), scraped by annotation or ServiceMonitor
	Replicas, MaxReplicas      int // MaxReplicas > 0: a HorizontalPodAutoscaler
	Workers                    int // per pod, from the CPU limit

	CPURequest, CPULimit, MemoryRequest, MemoryLimit string

	ReadinessPath, ReadinessPort string // ReadinessPort is a container port name: health or http
	PreStop                      int    // seconds of preStop sleep; 0: none
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

// Defaults of the container and Kubernetes targets.
const (
	defaultReplicas = 2
	defaultPreStop  = 5 // seconds: long enough for endpoint removal to reach every proxy
	imageUID        = 10001
	appDir          = "/app"
	graceMargin     = 10 // seconds between the drain limit and the kubelet's KILL
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
	case project.DatabaseSQLite:
		if contains(o.Targets, "kubernetes") {
			return &InputError{"kubernetes for a project made with --db", project.DatabaseSQLite,
				"SQLite keeps its data in one file on one host, which pods of a Deployment cannot share: use --db postgres for Kubernetes, or one host (deploy-config systemd or supervisor)"}
		}
	case project.DatabasePostgres:
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
	k.TerminationGrace = k.PreStop + d.GracefulTimeout + graceMargin

	timeout := d.Timeout
	if timeout == 0 {
		timeout = 30
	}
	// The master gives up on a boot not ready within the app's timeout; the startup probe
	// waits that long plus a margin before the kubelet restarts the container.
	k.StartupFailures = int(math.Ceil(float64(timeout+graceMargin) / startupPeriod))
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
		ctx.Files.Add("kubernetes/base/config/"+f, data, 0o644)
	}
	return nil
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
