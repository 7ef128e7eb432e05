package deploy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// kubeVariants are the option sets whose manifests differ in kind: the default, and one
// with every optional object (autoscaler, ingress, namespace).
var kubeVariants = map[string]Options{
	"default": {Targets: []string{"kubernetes", "container"}},
	"full": {Targets: []string{"kubernetes", "container"}, Domains: []string{"shop.example.com"}, MaxReplicas: 6, Namespace: "shop",
		Image: "registry.example.com/shop/demo:1.2.0", ReadinessPath: "/healthz", CPULimit: "2500m", MemoryLimit: "1Gi", PreStop: 10},
	"no-prestop": {Targets: []string{"kubernetes"}, PreStop: -1, HealthPort: 9100, Replicas: 3, CPURequest: "100m", CPULimit: "500m"},
	// Before the preStop sleep action: the runtime's --shutdown-delay instead.
	"kube-1.29": {Targets: []string{"kubernetes"}, KubeVersion: "1.29", IngressFrom: "traefik"},
}

// decodeStrict decodes a generated manifest into its typed object: an unknown field or a
// wrong type fails, as the API server would refuse it.
func decodeStrict(t *testing.T, ctx *Context, file string, into any) {
	t.Helper()
	f, ok := ctx.Files.Get(file)
	if !ok {
		t.Fatalf("%s not generated", file)
	}
	if err := yaml.UnmarshalStrict(f.Data, into); err != nil {
		t.Fatalf("%s: %v\n%s", file, err, f.Data)
	}
}

func TestKubeManifestsDecodeStrictly(t *testing.T) {
	dir := newProject(t, "demo")
	for name, opts := range kubeVariants {
		t.Run(name, func(t *testing.T) {
			ctx, err := Generate(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			var dep appsv1.Deployment
			decodeStrict(t, ctx, "kubernetes/base/deployment.yaml", &dep)
			var svc corev1.Service
			decodeStrict(t, ctx, "kubernetes/base/service.yaml", &svc)
			var pdb policyv1.PodDisruptionBudget
			decodeStrict(t, ctx, "kubernetes/base/pdb.yaml", &pdb)
			var np networkingv1.NetworkPolicy
			decodeStrict(t, ctx, "kubernetes/base/networkpolicy.yaml", &np)
			checkDeployment(t, ctx.Data, &dep)
			if pdb.Spec.UnhealthyPodEvictionPolicy == nil || *pdb.Spec.UnhealthyPodEvictionPolicy != policyv1.AlwaysAllow {
				t.Errorf("PDB unhealthyPodEvictionPolicy: %v", pdb.Spec.UnhealthyPodEvictionPolicy)
			}
			if svc.Spec.Ports[0].TargetPort.StrVal != "http" || svc.Spec.Selector["app.kubernetes.io/name"] != "demo" {
				t.Errorf("Service: %+v", svc.Spec)
			}
			_, hasHPA := ctx.Files.Get("kubernetes/base/hpa.yaml")
			_, hasIngress := ctx.Files.Get("kubernetes/base/ingress.yaml")
			if hasHPA != (opts.MaxReplicas > 0) || hasIngress != (len(opts.Domains) > 0) {
				t.Errorf("hpa.yaml %v, ingress.yaml %v for %+v", hasHPA, hasIngress, opts)
			}
			kust, _ := ctx.Files.Get("kubernetes/base/kustomization.yaml")
			for _, want := range []string{"  - config/config.yaml\n", "  - config/logging.yaml\n", "  - config/setting.yaml\n"} {
				if !bytes.Contains(kust.Data, []byte(want)) {
					t.Errorf("kustomization.yaml lacks %q", want)
				}
			}
			if hasHPA {
				var hpa autoscalingv2.HorizontalPodAutoscaler
				decodeStrict(t, ctx, "kubernetes/base/hpa.yaml", &hpa)
				if *hpa.Spec.MinReplicas != int32(ctx.Data.Kube.Replicas) || hpa.Spec.Behavior == nil || hpa.Spec.ScaleTargetRef.Name != "demo" {
					t.Errorf("HPA: %+v", hpa.Spec)
				}
				if dep.Spec.Replicas != nil {
					t.Errorf("the autoscaler owns replicas, the Deployment sets %d", *dep.Spec.Replicas)
				}
				if !bytes.Contains(kust.Data, []byte("  - hpa.yaml\n")) {
					t.Error("kustomization.yaml does not list hpa.yaml")
				}
			}
			if hasIngress {
				var ing networkingv1.Ingress
				decodeStrict(t, ctx, "kubernetes/base/ingress.yaml", &ing)
				a := ing.Annotations
				if a["nginx.ingress.kubernetes.io/proxy-read-timeout"] != "40" || a["nginx.ingress.kubernetes.io/proxy-body-size"] != "1048576" {
					t.Errorf("ingress annotations do not follow the app's timeout (30s) and max_body_bytes: %v", a)
				}
				if ing.Spec.Rules[0].Host != "shop.example.com" {
					t.Errorf("ingress host %q", ing.Spec.Rules[0].Host)
				}
			}
		})
	}
}

// checkDeployment asserts the rules the Deployment must keep, whatever the options.
func checkDeployment(t *testing.T, d Data, dep *appsv1.Deployment) {
	t.Helper()
	k := d.Kube
	spec := dep.Spec.Template.Spec
	c := spec.Containers[0]
	grace := int(*spec.TerminationGracePeriodSeconds)
	if grace != k.PreStop+d.GracefulTimeout+graceMargin || grace <= d.GracefulTimeout+k.PreStop {
		t.Errorf("terminationGracePeriodSeconds %d, want preStop %d + graceful %d + margin %d", grace, k.PreStop, d.GracefulTimeout, graceMargin)
	}
	delay := slices.Index(c.Args, "--shutdown-delay")
	switch {
	case k.PreStop > 0 && k.NativeSleep && (c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || int(c.Lifecycle.PreStop.Sleep.Seconds) != k.PreStop || delay >= 0):
		t.Errorf("preStop: %+v, args %v, want a native sleep of %ds and no shutdown delay", c.Lifecycle, c.Args, k.PreStop)
	case k.PreStop > 0 && !k.NativeSleep && (c.Lifecycle != nil || delay < 0 || c.Args[delay+1] != strconv.Itoa(k.PreStop)):
		t.Errorf("Kubernetes %s: lifecycle %+v, args %v, want no preStop and --shutdown-delay %d", k.KubeVersion, c.Lifecycle, c.Args, k.PreStop)
	case k.PreStop == 0 && (c.Lifecycle != nil || delay >= 0):
		t.Errorf("no preStop asked: lifecycle %+v, args %v", c.Lifecycle, c.Args)
	}
	// One slow answer never pulls a pod from the Service.
	if r := c.ReadinessProbe; r.FailureThreshold < 2 || r.TimeoutSeconds < 2 || r.PeriodSeconds <= r.TimeoutSeconds {
		t.Errorf("readiness probe %+v: want failureThreshold >= 2, timeoutSeconds >= 2 and a period above the timeout", r)
	}
	probes := map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe}
	paths := map[string]bool{}
	for name, p := range probes {
		if p == nil || p.HTTPGet == nil {
			t.Fatalf("%s probe missing", name)
		}
		paths[p.HTTPGet.Path] = true
	}
	if len(paths) != 3 {
		t.Errorf("probes share paths: %v", paths)
	}
	if c.LivenessProbe.HTTPGet.Path != "/livez" || c.StartupProbe.HTTPGet.Path != "/startupz" || c.LivenessProbe.HTTPGet.Port.StrVal != "health" {
		t.Errorf("liveness/startup probes not on the runtime's health listener: %+v %+v", c.LivenessProbe.HTTPGet, c.StartupProbe.HTTPGet)
	}
	// The master abandons a boot not ready within the app's timeout: the startup probe
	// must wait longer than that before the kubelet restarts the container.
	if s := c.StartupProbe; int(s.PeriodSeconds*s.FailureThreshold) <= d.Timeout {
		t.Errorf("startup probe allows %ds, not more than the app's timeout %ds", s.PeriodSeconds*s.FailureThreshold, d.Timeout)
	}
	ru := dep.Spec.Strategy.RollingUpdate
	if ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge.IntValue() != 1 {
		t.Errorf("rolling update %v/%v, want maxUnavailable 0, maxSurge 1", ru.MaxUnavailable, ru.MaxSurge)
	}
	sc, psc := c.SecurityContext, spec.SecurityContext
	if !*psc.RunAsNonRoot || *psc.RunAsUser == 0 || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
		*sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("security context: pod %+v container %+v", psc, sc)
	}
	limit := c.Resources.Limits[corev1.ResourceCPU]
	if want := WorkersFor(limit.MilliValue()); !slices.Contains(c.Args, "-w") || c.Args[slices.Index(c.Args, "-w")+1] != strconv.Itoa(want) {
		t.Errorf("args %v, want -w %d for a CPU limit of %s", c.Args, want, limit.String())
	}
	for _, want := range []string{"-c", appDir + "/config", "--health-bind"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args %v lack %s", c.Args, want)
		}
	}
	// The metrics listener: the port the master binds is the container port named
	// metrics and the one the scrape annotations name.
	mport := strconv.Itoa(k.MetricsPort)
	if i := slices.Index(c.Args, "--metrics-bind"); i < 0 || c.Args[i+1] != "0.0.0.0:"+mport {
		t.Errorf("args %v, want --metrics-bind 0.0.0.0:%s", c.Args, mport)
	}
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" && int(p.ContainerPort) == k.MetricsPort }) {
		t.Errorf("container ports %+v lack metrics %d", c.Ports, k.MetricsPort)
	}
	if a := dep.Spec.Template.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != mport || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v, want prometheus.io scrape of port %s /metrics", a, mport)
	}
	mounts := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = true
	}
	if !mounts[appDir+"/config"] || !mounts[d.SocketDir] {
		t.Errorf("mounts %v: want the ConfigMap at %s/config and a writable %s for the control socket", mounts, appDir, d.SocketDir)
	}
	// The OpenTelemetry variables: service.name and service.version from the pod's
	// recommended labels, the Collector's address from the ConfigMap.
	fromLabel := func(name, label string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['" + label + "']"}}}
	}
	wantEnv := []corev1.EnvVar{{Name: "APP_ENV", Value: "production"},
		fromLabel("OTEL_SERVICE_NAME", "app.kubernetes.io/name"), fromLabel("SERVICE_VERSION", "app.kubernetes.io/version"),
		{Name: "OTEL_RESOURCE_ATTRIBUTES", Value: "service.version=$(SERVICE_VERSION)"},
		{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: d.Name + "-otel"}, Key: "OTEL_EXPORTER_OTLP_ENDPOINT"}}},
	}
	if k.Migrate {
		wantEnv = append(wantEnv, corev1.EnvVar{Name: "APP_DATABASE_DSN_FILE", Value: k.SecretDir + "/database.dsn"})
	}
	if !reflect.DeepEqual(c.Env, wantEnv) {
		t.Errorf("env %+v, want %+v (no secret as a literal)", c.Env, wantEnv)
	}
	// A Service named app-server would inject APP_SERVER_PORT, a misspelt setting to the app.
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("enableServiceLinks %v, want false", spec.EnableServiceLinks)
	}
}

func TestWorkersFollowTheCPULimit(t *testing.T) {
	for _, tc := range []struct {
		limit string
		want  int
	}{{"100m", 1}, {"1", 1}, {"1500m", 1}, {"2", 2}, {"2500m", 2}, {"8", 8}} {
		q := resource.MustParse(tc.limit)
		if got := WorkersFor(q.MilliValue()); got != tc.want {
			t.Errorf("CPU limit %s: %d workers, want %d", tc.limit, got, tc.want)
		}
	}
}

// The manifests take their numbers from config/ (production mode), never typed twice.
func TestKubeValuesFollowProjectConfig(t *testing.T) {
	dir := newProject(t, "demo")
	replace(t, filepath.Join(dir, "config", "config.yaml"), "timeout: 30s", "timeout: 45s")
	replace(t, filepath.Join(dir, "config", "config.yaml"), "127.0.0.1:8000", "127.0.0.1:9300")
	settings := "production:\n  server:\n    graceful_timeout: 50\n"
	if err := os.WriteFile(filepath.Join(dir, "config", "setting.yaml"), []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, err := Generate(dir, Options{Targets: []string{"kubernetes", "container", "nginx"}, Domains: []string{"shop.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	decodeStrict(t, ctx, "kubernetes/base/deployment.yaml", &dep)
	checkDeployment(t, ctx.Data, &dep)
	c := dep.Spec.Template.Spec.Containers[0]
	if g := *dep.Spec.Template.Spec.TerminationGracePeriodSeconds; g != 5+50+10 {
		t.Errorf("terminationGracePeriodSeconds %d, want 65 (preStop 5 + graceful_timeout 50 + 10)", g)
	}
	if c.Ports[0].ContainerPort != 9300 || c.Ports[1].ContainerPort != 9301 || !slices.Contains(c.Args, "0.0.0.0:9300") {
		t.Errorf("ports %+v args %v, want the app on config's 9300 and health on 9301", c.Ports, c.Args)
	}
	cf, _ := ctx.Files.Get("container/Containerfile")
	for _, want := range []string{"EXPOSE 9300 9301", `"0.0.0.0:9300"`, "STOPSIGNAL SIGTERM", "USER 10001:10001", `ENTRYPOINT ["/app/bin/demo"]`} {
		if !bytes.Contains(cf.Data, []byte(want)) {
			t.Errorf("Containerfile lacks %q", want)
		}
	}
	var ing networkingv1.Ingress
	decodeStrict(t, ctx, "kubernetes/base/ingress.yaml", &ing)
	if got := ing.Annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]; got != "55" {
		t.Errorf("ingress proxy-read-timeout %s, want 55 (timeout 45 + 10, as the nginx site)", got)
	}
	// The Ingress buffers as much of the app's response headers as the nginx site does.
	site, _ := ctx.Files.Get("nginx/demo.conf")
	buf := ing.Annotations["nginx.ingress.kubernetes.io/proxy-buffer-size"]
	if buf == "" || !bytes.Contains(site.Data, []byte("proxy_buffer_size "+buf+";")) {
		t.Errorf("ingress proxy-buffer-size %q, not the nginx site's proxy_buffer_size", buf)
	}
	// The ConfigMap holds config/ as it is.
	cfg, _ := ctx.Files.Get("kubernetes/base/config/setting.yaml")
	if string(cfg.Data) != settings {
		t.Errorf("kubernetes/base/config/setting.yaml = %q, want config/setting.yaml", cfg.Data)
	}
}

// The pods keep an idle connection longer than the proxy in front of them (which scaffold
// does not configure), so the proxy closes first: the opposite of the host nginx's rule.
func TestPodsOutlastTheProxysIdleTimeout(t *testing.T) {
	for _, tc := range []struct {
		keepAlive string
		idle      int
		want      string // the pods' --keep-alive; "" for the app's own
	}{
		{"5s", 0, "75"}, {"0", 0, "75"}, {"60s", 0, "75"}, {"61s", 0, ""}, {"5s", 600, "615"}, {"120s", 100, ""}, {"5", 1, ""}, {"1", 1, "16"},
	} {
		dir := newProject(t, "demo")
		replace(t, filepath.Join(dir, "config", "config.yaml"), "keep_alive: 5s", "keep_alive: "+tc.keepAlive)
		ctx, err := Generate(dir, Options{Targets: []string{"kubernetes"}, UpstreamIdle: tc.idle})
		if err != nil {
			t.Fatal(err)
		}
		var dep appsv1.Deployment
		decodeStrict(t, ctx, "kubernetes/base/deployment.yaml", &dep)
		args := dep.Spec.Template.Spec.Containers[0].Args
		i := slices.Index(args, "--keep-alive")
		switch {
		case tc.want == "" && i >= 0:
			t.Errorf("keep_alive %s, idle %d: args %v override the app's keep_alive, already above the proxy's", tc.keepAlive, tc.idle, args)
		case tc.want != "" && (i < 0 || i+1 >= len(args) || args[i+1] != tc.want):
			t.Errorf("keep_alive %s, idle %d: args %v, want --keep-alive %s", tc.keepAlive, tc.idle, args, tc.want)
		}
	}
}

// The readiness probe's timeout is the probed handler's own bound plus a second, and it
// takes two failures in a row: a GC pause or a throttled CPU never empties the Service.
func TestReadinessProbeFromTheAppsTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		db      string
		timeout string // config.yaml's server.timeout
		path    string // --readiness-path
		want    Probe
	}{
		{"the master's /readyz (health listener, 1s)", "", "30s", "", Probe{Bound: 1, Timeout: 2, Period: 3, Failure: 2}},
		{"the app's /readyz pinging the database (1s)", state.DatabasePostgres, "30s", "", Probe{Bound: 1, Timeout: 2, Period: 3, Failure: 2}},
		{"another app route: the app's timeout, capped at 5s", "", "30s", "/healthz", Probe{Bound: 5, Timeout: 6, Period: 7, Failure: 2}},
		{"another app route under a short timeout", "", "3s", "/healthz", Probe{Bound: 3, Timeout: 4, Period: 5, Failure: 2}},
		{"another app route, no app timeout", "", "0", "/healthz", Probe{Bound: 5, Timeout: 6, Period: 7, Failure: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newProjectWith(t, project.Options{Name: "demo", Database: tc.db})
			replace(t, filepath.Join(dir, "config", "config.yaml"), "timeout: 30s", "timeout: "+tc.timeout)
			ctx, err := Generate(dir, Options{Targets: []string{"kubernetes"}, ReadinessPath: tc.path})
			if err != nil {
				t.Fatal(err)
			}
			if got := ctx.Data.Kube.Readiness; got != tc.want {
				t.Errorf("readiness %+v, want %+v", got, tc.want)
			}
			var dep appsv1.Deployment
			decodeStrict(t, ctx, "kubernetes/base/deployment.yaml", &dep)
			r := dep.Spec.Template.Spec.Containers[0].ReadinessProbe
			if int(r.TimeoutSeconds) != tc.want.Timeout || int(r.PeriodSeconds) != tc.want.Period || int(r.FailureThreshold) != tc.want.Failure {
				t.Errorf("manifest's readiness probe %+v, want %+v", r, tc.want)
			}
		})
	}
}

// --kube-version: below 1.30 the preStop sleep action is off by default and the image has
// no sleep, so the runtime's --shutdown-delay keeps the pod serving instead; the base says
// which version each feature needs; versions below the oldest feature's are refused.
func TestKubeVersion(t *testing.T) {
	dir := newProject(t, "demo")
	for _, tc := range []struct {
		version, want string
		native        bool
		minimum       string
	}{
		{"", "1.35", true, "1.30"}, {"1.30", "1.30", true, "1.30"}, {"v1.34.4", "1.34", true, "1.30"},
		{"1.29", "1.29", false, "1.27"}, {"1.27", "1.27", false, "1.27"},
	} {
		ctx, err := Generate(dir, Options{Targets: []string{"kubernetes"}, KubeVersion: tc.version})
		if err != nil {
			t.Fatalf("--kube-version %q: %v", tc.version, err)
		}
		k := ctx.Data.Kube
		if k.KubeVersion != tc.want || k.NativeSleep != tc.native || k.MinimumVersion != tc.minimum {
			t.Errorf("--kube-version %q: version %s, native sleep %v, needs %s; want %s, %v, %s", tc.version, k.KubeVersion, k.NativeSleep, k.MinimumVersion, tc.want, tc.native, tc.minimum)
		}
		var dep appsv1.Deployment
		decodeStrict(t, ctx, "kubernetes/base/deployment.yaml", &dep)
		checkDeployment(t, ctx.Data, &dep)
		if g := int(*dep.Spec.Template.Spec.TerminationGracePeriodSeconds); g != 5+30+10 {
			t.Errorf("--kube-version %q: grace %d, want 45 whichever keeps the pod serving", tc.version, g)
		}
		kust, _ := ctx.Files.Get("kubernetes/base/kustomization.yaml")
		if !bytes.Contains(kust.Data, []byte("# Needs Kubernetes "+tc.minimum+" or later (written for "+tc.want)) ||
			bytes.Contains(kust.Data, []byte("lifecycle.preStop.sleep")) != tc.native {
			t.Errorf("--kube-version %q: the base's header does not state the minimums:\n%s", tc.version, kust.Data)
		}
	}
	for _, bad := range []string{"1.26", "2.0", "latest", "1.x", "1.30 --x"} {
		_, err := Generate(dir, Options{Targets: []string{"kubernetes"}, KubeVersion: bad})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Flag != "--kube-version" || !strings.Contains(err.Error(), "must be") {
			t.Errorf("--kube-version %q: %v, want a refusal naming the flag and the rule", bad, err)
		}
	}
}

// Ingress to the app's port only from the ingress controller's namespace; egress only to
// DNS and, for a PostgreSQL project, the database's port.
func TestNetworkPolicyInAndOut(t *testing.T) {
	for _, tc := range []struct {
		db, dsn, from string
		wantFrom      string
		wantEgress    []int32
	}{
		{"", "", "", "ingress-nginx", []int32{53, 53}},
		{"", "", "traefik", "traefik", []int32{53, 53}},
		{state.DatabasePostgres, "", "", "ingress-nginx", []int32{53, 53, 5432}},
		{state.DatabasePostgres, "postgres://app@db.example.com:6432/app", "", "ingress-nginx", []int32{53, 53, 6432}},
	} {
		dir := newProjectWith(t, project.Options{Name: "demo", Database: tc.db})
		if tc.dsn != "" {
			settings := "production:\n  database:\n    dsn: " + tc.dsn + "\n"
			if err := os.WriteFile(filepath.Join(dir, "config", "setting.yaml"), []byte(settings), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ctx, err := Generate(dir, Options{Targets: []string{"kubernetes"}, IngressFrom: tc.from})
		if err != nil {
			t.Fatal(err)
		}
		var np networkingv1.NetworkPolicy
		decodeStrict(t, ctx, "kubernetes/base/networkpolicy.yaml", &np)
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
			t.Errorf("policy types %v, want Ingress and Egress", np.Spec.PolicyTypes)
		}
		app := np.Spec.Ingress[0]
		if len(app.From) != 1 || app.From[0].NamespaceSelector == nil || app.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != tc.wantFrom ||
			app.Ports[0].Port.IntValue() != ctx.Data.Kube.Port {
			t.Errorf("ingress rule %+v, want the app's port from namespace %s only", app, tc.wantFrom)
		}
		for _, r := range np.Spec.Ingress {
			if len(r.From) == 0 {
				t.Errorf("ingress rule %+v is open to every pod", r)
			}
		}
		var ports []int32
		for _, r := range np.Spec.Egress {
			for _, p := range r.Ports {
				ports = append(ports, p.Port.IntVal)
			}
		}
		if !slices.Equal(ports, tc.wantEgress) {
			t.Errorf("db %q dsn %q: egress ports %v, want %v", tc.db, tc.dsn, ports, tc.wantEgress)
		}
	}
	_, err := Generate(newProject(t, "demo"), Options{Targets: []string{"kubernetes"}, IngressFrom: "Ingress_NGINX"})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Flag != "--ingress-namespace" {
		t.Errorf("--ingress-namespace Ingress_NGINX: %v, want a refusal naming the flag", err)
	}
}

// config/ goes into the image and the ConfigMap: a DSN with a password there is refused for
// those targets (it belongs in a Secret or a file), and the ConfigMap carries only what
// production reads, not setting.yaml's source_tree.
func TestConfigMapCarriesNoSecretNorSourceTree(t *testing.T) {
	dir := newProjectWith(t, project.Options{Name: "demo", Database: state.DatabasePostgres})
	ctx, err := Generate(dir, Options{Targets: []string{"kubernetes"}})
	if err != nil {
		t.Fatal(err)
	}
	var orig, copied map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, "config", "setting.yaml"))
	if err := yaml.Unmarshal(data, &orig); err != nil {
		t.Fatal(err)
	}
	f, _ := ctx.Files.Get("kubernetes/base/config/setting.yaml")
	if err := yaml.Unmarshal(f.Data, &copied); err != nil {
		t.Fatalf("the ConfigMap's setting.yaml: %v\n%s", err, f.Data)
	}
	if _, ok := orig["source_tree"]; !ok {
		t.Fatal("the generated setting.yaml has no source_tree section to leave out")
	}
	delete(orig, "source_tree")
	if !reflect.DeepEqual(orig, copied) {
		t.Errorf("the ConfigMap's setting.yaml %v, want config/setting.yaml without source_tree %v", copied, orig)
	}

	replace(t, filepath.Join(dir, "config", "config.yaml"), "dsn: postgres:///demo?host=/var/run/postgresql", "dsn: postgres://app:s3cret@db.example.com/demo")
	for _, targets := range [][]string{{"kubernetes"}, {"container"}} {
		_, err := Generate(dir, Options{Targets: targets})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.HasPrefix(ie.Flag, "database.dsn") || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "must not hold a password") {
			t.Errorf("%v with a password in config/: %v, want a refusal naming database.dsn, the password masked", targets, err)
		}
	}
	if _, err := Generate(dir, Options{Targets: []string{"systemd"}}); err != nil {
		t.Errorf("systemd reads config/ on its own host: %v", err)
	}
}

func TestKubeBadInput(t *testing.T) {
	dir := newProject(t, "demo")
	for _, tc := range []struct {
		flag string
		opts Options
	}{
		{"--namespace", Options{Namespace: "Shop"}},
		{"--namespace", Options{Namespace: "shop_prod"}},
		{"--namespace", Options{Namespace: strings.Repeat("a", 64)}},
		{"--image", Options{Image: "Registry/Shop:1"}},
		{"--image", Options{Image: "shop:1 --privileged"}},
		{"--image", Options{Image: "shop@sha256:abc"}},
		{"--cpu-limit", Options{CPULimit: "two"}},
		{"--cpu-request", Options{CPURequest: "-1"}},
		{"--memory-limit", Options{MemoryLimit: "256MB!"}},
		{"--memory-request", Options{MemoryRequest: "1Gi"}}, // above the 256Mi limit
		{"--cpu-request", Options{CPURequest: "2"}},         // above the limit of 1
		{"--readiness-path", Options{ReadinessPath: "healthz"}},
		{"--readiness-path", Options{ReadinessPath: "/health z"}},
		{"--replicas", Options{Replicas: -1}},
		{"--max-replicas", Options{MaxReplicas: 2}},
		{"--health-port", Options{HealthPort: 8000}},
		{"--health-port", Options{HealthPort: 70000}},
		{"--metrics-port", Options{MetricsPort: 8000}},
		{"--metrics-port", Options{HealthPort: 9100, MetricsPort: 9100}},
		{"--metrics-port", Options{MetricsPort: -1}},
		{"--prestop", Options{PreStop: -5}},
		{"--upstream-idle", Options{UpstreamIdle: -1}},
		{"--upstream-idle", Options{UpstreamIdle: 3601}},
	} {
		tc.opts.Targets = []string{"kubernetes", "container"}
		ctx, err := Generate(dir, tc.opts)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Flag != tc.flag {
			t.Errorf("%+v: error %v, want one naming %s", tc.opts, err, tc.flag)
			continue
		}
		if ctx != nil {
			t.Errorf("%s: a context came back with the error", tc.flag)
		}
		if !strings.Contains(err.Error(), "must") {
			t.Errorf("%s: error %q states no rule", tc.flag, err)
		}
	}
	// The host targets do not check the Kubernetes options.
	if _, err := Generate(dir, Options{Targets: []string{"nginx"}, CPULimit: "two"}); err != nil {
		t.Errorf("nginx with an unused --cpu-limit: %v", err)
	}
}

// A PostgreSQL project migrates in an init container (never in its workers) and takes
// readiness from the app's /readyz, which checks the database; SQLite is refused, with
// nothing written, since pods cannot share its file.
func TestKubeDatabaseProjects(t *testing.T) {
	pg := newProjectWith(t, project.Options{Name: "demo", Database: state.DatabasePostgres})
	ctx, err := Generate(pg, kubeVariants["default"])
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	decodeStrict(t, ctx, "kubernetes/base/deployment.yaml", &dep)
	spec := dep.Spec.Template.Spec
	if len(spec.InitContainers) != 1 || strings.Join(spec.InitContainers[0].Args, " ") != "migrate -c /app/config up" {
		t.Errorf("init containers %+v, want one running migrate -c /app/config up", spec.InitContainers)
	} else if ic := spec.InitContainers[0]; ic.Image != spec.Containers[0].Image || ic.SecurityContext == nil || !*ic.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("init container %+v: want the app's image with a read-only root", ic)
	}
	if rp := spec.Containers[0].ReadinessProbe.HTTPGet; rp.Path != "/readyz" || rp.Port.String() != "http" {
		t.Errorf("readiness probe %s on %s, want the app's /readyz on http", rp.Path, rp.Port.String())
	}
	// database.dsn reaches the app and its migrations as a file of the Secret demo-database.
	var secretVol *corev1.Volume
	for i, v := range spec.Volumes {
		if v.Secret != nil {
			secretVol = &spec.Volumes[i]
		}
	}
	if secretVol == nil || secretVol.Secret.SecretName != "demo-database" || secretVol.Secret.Optional != nil {
		t.Fatalf("volumes %+v: want the (required) Secret demo-database", spec.Volumes)
	}
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		file := ""
		for _, e := range c.Env {
			if e.Name == "APP_DATABASE_DSN_FILE" {
				file = e.Value
			}
		}
		mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == secretVol.Name && m.ReadOnly && file == m.MountPath+"/database.dsn"
		})
		if !mounted {
			t.Errorf("container %s: APP_DATABASE_DSN_FILE %q is not the Secret's database.dsn as mounted (%+v)", c.Name, file, c.VolumeMounts)
		}
	}
	plain, err := Generate(newProject(t, "demo"), kubeVariants["default"])
	if err != nil {
		t.Fatal(err)
	}
	var plainDep appsv1.Deployment
	decodeStrict(t, plain, "kubernetes/base/deployment.yaml", &plainDep)
	if n := len(plainDep.Spec.Template.Spec.InitContainers); n != 0 {
		t.Errorf("a project without a database has %d init containers", n)
	}

	lite := newProjectWith(t, project.Options{Name: "demo", Database: state.DatabaseSQLite})
	_, err = Generate(lite, kubeVariants["default"])
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "SQLite") || !strings.Contains(err.Error(), "--db postgres") {
		t.Errorf("kubernetes for a SQLite project: err %v, want an InputError naming SQLite and --db postgres", err)
	}
	if _, err := Generate(lite, Options{Targets: []string{"container"}}); err != nil {
		t.Errorf("the container target alone for a SQLite project: %v", err)
	}
}
