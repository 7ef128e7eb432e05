package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/k8stest"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

var installK8s = "run .ci/build-k8s (builds Kubernetes v1.34.4 into " + k8stest.BinDir + ", $" + k8stest.BinDirEnv + " when set; apt-get install etcd-server containerd podman runc)"

// requireCluster skips the test when the single-node cluster cannot be started here, or
// fails it under SCAFFOLD_REQUIRE_TOOLS=1.
func requireCluster(t *testing.T) {
	t.Helper()
	if miss := k8stest.Missing(); len(miss) > 0 {
		msg := fmt.Sprintf("missing %s: %s", strings.Join(miss, ", "), installK8s)
		if os.Getenv(testenv.RequireTools) == "1" {
			t.Fatalf("%s (%s=1)", msg, testenv.RequireTools)
		}
		t.Skip("a real Kubernetes is not available: " + msg)
	}
	if os.Geteuid() != 0 {
		if os.Getenv(testenv.RequireTools) == "1" {
			t.Fatalf("the kubelet and containerd need root (%s=1)", testenv.RequireTools)
		}
		t.Skip("the kubelet and containerd need root")
	}
}

// testOverlay is the test's kustomize overlay over the production overlay, exactly as
// `make image` left it (the image, its tag and pull policy come from there). It patches
// only what this machine forces, each patch saying which limit forces it, and what the
// scenario adds (scenario: more of the container's fields, indented as they are; extra:
// more patches).
func testOverlay(name string, k KubeData, scenario, extra string) string {
	readiness := k.HealthPort
	if k.ReadinessPort == "http" {
		readiness = k.Port
	}
	// The production overlay's namespace, where it sets one: the patches must name it.
	var ns, targetNS string
	if k.Namespace != "" {
		ns, targetNS = "\n        namespace: "+k.Namespace, "\n      namespace: "+k.Namespace
	}
	return fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../production
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: %[1]s%[6]s
      spec:
        template:
          spec:
            # No CNI here, so no pod network: pods share the node's network.
            hostNetwork: true
            # No cluster DNS either (ClusterFirst would point at a kube-dns that is not there).
            dnsPolicy: Default
            containers:
              - name: %[1]s
                # hostNetwork: bind the node's loopback only (never all of the host's
                # interfaces), and --reuse-port so that two pods of a rollout share the port;
                # the metrics listener is left out (a third shared port nobody scrapes here).
                args: ["-c", "/app/config", "-b", "127.0.0.1:%[3]d", "-w", "%[4]d", "--health-bind", "127.0.0.1:%[2]d", "--reuse-port"]
                # The node runs without local storage isolation (its disk is not the
                # kubelet's to measure here), so it offers no ephemeral-storage.
                resources:
                  requests:
                    ephemeral-storage: null
                  limits:
                    ephemeral-storage: null
                # hostNetwork with a loopback-only listener: the kubelet probes 127.0.0.1.
                startupProbe:
                  httpGet:
                    host: 127.0.0.1
                    port: %[2]d
                readinessProbe:
                  httpGet:
                    host: 127.0.0.1
                    port: %[5]d
                livenessProbe:
                  httpGet:
                    host: 127.0.0.1
                    port: %[2]d
%[7]s
  # hostNetwork makes every containerPort a hostPort, which the scheduler gives one pod per
  # node: this one-node cluster could never surge a rollout. The probes name the port instead.
  - target:
      kind: Deployment
      name: %[1]s%[9]s
    patch: |-
      - op: remove
        path: /spec/template/spec/containers/0/ports
%[8]s`, name, k.HealthPort, k.Port, k.Workers, readiness, ns, strings.TrimRight(scenario, "\n"), extra, targetNS)
}

// pods of the Deployment, as the API server has them.
type podList struct {
	Items []struct {
		Metadata struct {
			Name              string  `json:"name"`
			DeletionTimestamp *string `json:"deletionTimestamp"`
		} `json:"metadata"`
		Status struct {
			Phase      string `json:"phase"`
			Conditions []struct {
				Type               string    `json:"type"`
				Status             string    `json:"status"`
				LastTransitionTime time.Time `json:"lastTransitionTime"`
			} `json:"conditions"`
			ContainerStatuses []struct {
				Ready        bool `json:"ready"`
				RestartCount int  `json:"restartCount"`
				State        struct {
					Running *struct {
						StartedAt time.Time `json:"startedAt"`
					} `json:"running"`
				} `json:"state"`
			} `json:"containerStatuses"`
		} `json:"status"`
	} `json:"items"`
}

// getPage is one request of the cluster tests' load: a GET of url that must answer 200
// with the app's page (errors carry the time, to match against the pods' logs), then a
// short pause, so a few clients keep the pods busy without flooding two cores.
func getPage(client *http.Client, url string) func() error {
	return func() error {
		defer time.Sleep(5 * time.Millisecond)
		resp, err := client.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "<title>demo</title>") {
				err = fmt.Errorf("status %d, read error %v", resp.StatusCode, rerr)
			}
		}
		if err != nil {
			return fmt.Errorf("%s %w", time.Now().Format("15:04:05.000"), err)
		}
		return nil
	}
}

// TestCluster runs the generated manifests in a real single-node Kubernetes, started once
// for all of its scenarios.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Kubernetes cluster")
	}
	requireCluster(t)
	for _, tool := range []string{"podman", "make", "go"} {
		testenv.Tool(t, tool)
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	conf := podmanConf(t)

	// The cluster comes up (etcd, the control plane, containerd, the node: mostly waits)
	// while the project's image is built; the test takes it once the image is there.
	type started struct {
		cluster *k8stest.Cluster
		err     error
		took    time.Duration
	}
	starting := make(chan started, 1)
	go func() {
		from := time.Now()
		c, err := k8stest.Start(ctx, append(os.Environ(), conf))
		starting <- started{c, err, time.Since(from)}
	}()
	taken := false
	t.Cleanup(func() {
		if !taken { // the test ended before taking it: ctx is cancelled, so Start returns soon
			if s := <-starting; s.err == nil {
				_ = s.cluster.Stop()
			}
		}
	})

	dir := newProject(t, "demo")
	addTestRoutes(t, dir)
	port, health := testenv.FreePort(t), testenv.FreePort(t)
	replace(t, filepath.Join(dir, "config", "config.yaml"), "127.0.0.1:8000", "127.0.0.1:"+strconv.Itoa(port))
	// The README's steps: deploy-config, then `make image IMAGE=... TAG=1.2.0` (a version:
	// unique per run, as the image store is shared), then kubectl apply -k on the
	// production overlay. The push between them is the cluster's image import: no registry.
	tag := "0.1.0-k" + strconv.FormatInt(time.Now().UnixNano(), 36)
	const image = "localhost/scaffold-test-demo"
	opts := Options{Targets: []string{"kubernetes"}, HealthPort: health}
	buildImage(t, ctx, conf, dir, image, tag, opts)
	production := filepath.Join(dir, "deploy", "kubernetes", "production")
	// make image pointed the production overlay at what it built: one image reference, and
	// a version tag that never moves, so the node's imported copy is the one to run.
	if data, err := os.ReadFile(filepath.Join(production, "kustomization.yaml")); err != nil ||
		!strings.Contains(string(data), "newName: "+image+"\n") || !strings.Contains(string(data), `newTag: "`+tag+`"`) ||
		!strings.Contains(string(data), "imagePullPolicy: IfNotPresent\n") {
		t.Errorf("after make image the production overlay does not run %s:%s with IfNotPresent (%v):\n%s", image, tag, err, data)
	}
	gen, err := Generate(dir, Options{Targets: []string{"kubernetes"}, HealthPort: health})
	if err != nil {
		t.Fatal(err)
	}
	k := gen.Data.Kube

	s := <-starting
	taken = true
	if s.err != nil {
		t.Fatal(s.err)
	}
	cluster, clusterUp := s.cluster, s.took
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
		t.Logf("cluster tests: %s wall time in all (cluster start %s)", time.Since(began).Round(time.Second), clusterUp.Round(time.Second))
	})
	if err := cluster.ImportImage(ctx, image+":"+tag); err != nil {
		t.Fatal(err)
	}
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := cluster.Kubectl(ctx, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, cluster.Logs())
		}
		return out
	}
	podsOf := func() podList {
		t.Helper()
		var pods podList
		if err := json.Unmarshal([]byte(kubectl("get", "pods", "-l", "app.kubernetes.io/name=demo", "-o", "json")), &pods); err != nil {
			t.Fatal(err)
		}
		return pods
	}
	podLogs := func() string {
		var b strings.Builder
		for _, p := range podsOf().Items {
			b.WriteString(cluster.PodLog("default", p.Metadata.Name, "demo"))
		}
		return b.String()
	}
	readyPods := func() int {
		n := 0
		for _, p := range podsOf().Items {
			if p.Metadata.DeletionTimestamp == nil && len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].Ready {
				n++
			}
		}
		return n
	}
	app := "http://127.0.0.1:" + strconv.Itoa(port)

	t.Run("server-side validation of every variant", func(t *testing.T) {
		kubectl("create", "namespace", "shop")
		variants := map[string]struct {
			o  Options
			db string
		}{"postgres": {kubeVariants["default"], state.DatabasePostgres}}
		for name, o := range kubeVariants {
			variants[name] = struct {
				o  Options
				db string
			}{o, ""}
		}
		for name, vr := range variants {
			v := newProjectWith(t, project.Options{Name: "demo", Database: vr.db})
			writeDeploy(t, v, vr.o)
			out := filepath.Join(v, "deploy")
			for _, overlay := range []string{"base", "production"} {
				manifests := kubectl("kustomize", filepath.Join(out, "kubernetes", overlay))
				if res, err := cluster.KubectlIn(ctx, []byte(manifests), "apply", "--dry-run=server", "-f", "-"); err != nil {
					t.Errorf("%s/%s: %v", name, overlay, err)
				} else {
					t.Logf("%s/%s: %s", name, overlay, strings.ReplaceAll(strings.TrimSpace(res), "\n", "; "))
				}
			}
		}
	})

	// The production overlay as make image left it, unmodified: the API server accepts it.
	if out, err := cluster.Kubectl(ctx, "apply", "--dry-run=server", "-k", production); err != nil {
		t.Fatalf("kubectl apply --dry-run=server -k %s: %v\n%s", production, err, out)
	}
	overlay := filepath.Join(dir, "deploy", "kubernetes", "test")
	if err := os.MkdirAll(overlay, 0o755); err != nil {
		t.Fatal(err)
	}
	const bootDelay = 3 * time.Second
	writeFile(t, filepath.Join(overlay, "kustomization.yaml"), testOverlay("demo", k, `                # Not a machine limit: the scenario's slow App factory (TEST_BOOT_DELAY).
                env:
                  - name: TEST_BOOT_DELAY
                    value: "`+bootDelay.String()+`"
`, ""))

	// Every later scenario needs the Deployment this one brings up.
	ready := t.Run("ready only once the workers are", func(t *testing.T) {
		// Services named app and app-server would give every later pod APP_PORT,
		// APP_SERVICE_HOST and APP_SERVER_PORT (a misspelt setting to the app) but for
		// enableServiceLinks: false; the pods must start beside them all the same.
		for _, svc := range []string{"app", "app-server"} {
			kubectl("create", "service", "clusterip", svc, "--tcp=8000:8000")
		}
		kubectl("apply", "-k", overlay)
		// While the App factory sleeps, the master's /readyz and the pods say not ready.
		sawBooting := false
		waitFor(t, "a booting pod", time.Now().Add(90*time.Second), func() error {
			if err := wantStatus("http://127.0.0.1:"+strconv.Itoa(health)+"/readyz", 503); err != nil {
				return err
			}
			sawBooting = true
			return nil
		})
		if sawBooting && readyPods() != 0 {
			t.Errorf("a pod is Ready while its workers boot")
		}
		start := time.Now()
		if _, err := cluster.Kubectl(ctx, "rollout", "status", "deployment/demo", "--timeout=150s"); err != nil {
			t.Fatalf("%v\n%s\n%s", err, podLogs(), cluster.Logs())
		}
		t.Logf("deployment of %d pods available after %s", k.Replicas, time.Since(start).Round(100*time.Millisecond))
		for _, p := range podsOf().Items {
			cs := p.Status.ContainerStatuses[0]
			for _, c := range p.Status.Conditions {
				if c.Type == "Ready" && cs.State.Running != nil {
					took := c.LastTransitionTime.Sub(cs.State.Running.StartedAt)
					t.Logf("pod %s: container start to Ready %s (API timestamps, 1s resolution; App factory sleeps %s)", p.Metadata.Name, took, bootDelay)
					if took < bootDelay-time.Second {
						t.Errorf("pod %s Ready %s after start, before its workers could be (boot %s)", p.Metadata.Name, took, bootDelay)
					}
				}
			}
		}
		if err := wantStatus(app+"/", 200); err != nil {
			t.Fatal(err)
		}
		pids, err := cluster.ContainerPids(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids["demo"] {
			for name := range environ(pid) {
				if strings.HasPrefix(name, "APP_") && name != "APP_ENV" {
					t.Errorf("master %d has %s in its environment: service links are on", pid, name)
				}
			}
			rss, workers := treeRSS(pid)
			t.Logf("pod memory: master pid %d and %d workers: %d KiB resident", pid, workers, rss)
			if workers != k.Workers {
				t.Errorf("master %d runs %d workers, want %d (the CPU limit %s)", pid, workers, k.Workers, k.CPULimit)
			}
			// Go 1.25+ gives the master GOMAXPROCS from the cgroup's CPU limit (rounded up, at
			// least 2, at most the CPUs); each worker gets its share, not the node's CPUs.
			limit := resource.MustParse(k.CPULimit)
			want := max(1, min(runtime.NumCPU(), max(2, int((limit.MilliValue()+999)/1000)))/k.Workers)
			for _, w := range childrenOf(pid) {
				if got := environ(w)["GOMAXPROCS"]; got != strconv.Itoa(want) {
					t.Errorf("worker %d has GOMAXPROCS=%q, want %d (CPU limit %s, %d workers, %d CPUs on the node)", w, got, want, k.CPULimit, k.Workers, runtime.NumCPU())
				}
			}
		}
	})

	if !ready {
		t.FailNow()
	}

	t.Run("rollout restart fails no request", func(t *testing.T) {
		stopLoad := startLoad(4, 5000, getPage(&http.Client{Timeout: 10 * time.Second}, app+"/"))
		start := time.Now()
		kubectl("rollout", "restart", "deployment/demo")
		if _, err := cluster.Kubectl(ctx, "rollout", "status", "deployment/demo", "--timeout=240s"); err != nil {
			stopLoad()
			t.Fatalf("%v\n%s", err, podLogs())
		}
		// The old pods drain after the new ones are ready: keep the load on until they are gone.
		waitFor(t, "the old pods to go", time.Now().Add(2*time.Minute), func() error {
			if n := len(podsOf().Items); n != k.Replicas {
				return fmt.Errorf("%d pods", n)
			}
			return nil
		})
		took := time.Since(start)
		ok, failed, errs := stopLoad()
		sent := ok + failed
		t.Logf("rollout restart of %d pods: %s; requests sent %d, failed %d %v", k.Replicas, took.Round(100*time.Millisecond), sent, failed, errs)
		if failed > 0 || sent == 0 {
			t.Errorf("%d of %d requests failed during the rollout: %v\n%s", failed, sent, errs, podLogs())
		}
	})

	t.Run("deleting a pod lets its in-flight request finish", func(t *testing.T) {
		kubectl("scale", "deployment/demo", "--replicas=1")
		waitFor(t, "one pod", time.Now().Add(2*time.Minute), func() error {
			if n := len(podsOf().Items); n != 1 {
				return fmt.Errorf("%d pods", n)
			}
			return nil
		})
		pod := podsOf().Items[0].Metadata.Name
		slowDone := make(chan error, 1)
		resp, err := http.Get(app + "/slow?ms=" + strconv.Itoa((k.PreStop+3)*1000))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err == nil && string(body) != "slow done\n" {
				err = fmt.Errorf("body %q", body)
			}
			slowDone <- err
		}()
		// The kubelet removes the pod's log with the pod: keep the last copy for a failure.
		var lastLog atomic.Value
		stopCopy := make(chan struct{})
		go func() {
			for {
				if l := cluster.PodLog("default", pod, "demo"); l != "" {
					lastLog.Store(l)
				}
				select {
				case <-stopCopy:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
		stopLoad := startLoad(4, 5000, getPage(&http.Client{Timeout: 10 * time.Second}, app+"/"))
		start := time.Now()
		kubectl("delete", "pod", pod, "--wait=true", "--timeout=120s")
		deleted := time.Since(start)
		close(stopCopy)
		if err := <-slowDone; err != nil {
			t.Errorf("the in-flight request (%ds) across the pod's deletion: %v\n%s", k.PreStop+3, err, podLogs())
		}
		waitFor(t, "the replacement pod", time.Now().Add(2*time.Minute), func() error {
			if n := readyPods(); n != 1 {
				return fmt.Errorf("%d ready pods", n)
			}
			return nil
		})
		ok, failed, errs := stopLoad()
		sent := ok + failed
		t.Logf("pod deletion: gone after %s; requests sent %d, failed %d %v", deleted.Round(100*time.Millisecond), sent, failed, errs)
		if failed > 0 {
			l, _ := lastLog.Load().(string)
			t.Errorf("%d of %d requests failed during the pod's deletion (delete sent %s): %v\nthe deleted pod's log:\n%s",
				failed, sent, start.Format("15:04:05.000"), errs, l)
		}
		kubectl("scale", "deployment/demo", "--replicas="+strconv.Itoa(k.Replicas))
		waitFor(t, "the pods back", time.Now().Add(2*time.Minute), func() error {
			if n := readyPods(); n != k.Replicas {
				return fmt.Errorf("%d ready pods", n)
			}
			return nil
		})
	})

	t.Run("the PodDisruptionBudget blocks a drain below it", func(t *testing.T) {
		out, err := cluster.Kubectl(ctx, "drain", cluster.Node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=15s")
		defer kubectl("uncordon", cluster.Node)
		if err == nil || !strings.Contains(err.Error(), "disruption budget") {
			t.Errorf("drain of the only node: %v\n%s; want it refused by the disruption budget", err, out)
		}
		if n := readyPods(); n < k.Replicas-1 {
			t.Errorf("%d pods left ready after the drain, the budget allows one away from %d", n, k.Replicas)
		}
	})

	t.Run("a hung master is restarted", func(t *testing.T) {
		kubectl("uncordon", cluster.Node)
		waitFor(t, "the pods back", time.Now().Add(2*time.Minute), func() error {
			if n := readyPods(); n != k.Replicas {
				return fmt.Errorf("%d ready pods", n)
			}
			return nil
		})
		pids, err := cluster.ContainerPids(ctx)
		if err != nil || len(pids["demo"]) == 0 {
			t.Fatalf("no demo container: %v %v", pids, err)
		}
		master := pids["demo"][0]
		if err := syscall.Kill(master, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(master, syscall.SIGCONT)
		start := time.Now()
		// The production liveness probe (3 failures 10 s apart), then preStop and the grace
		// period before the KILL (about 110 s here), then the restart.
		waitFor(t, "a restart by the liveness probe", time.Now().Add(time.Duration(30+k.TerminationGrace+120)*time.Second), func() error {
			for _, p := range podsOf().Items {
				if len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount > 0 {
					return nil
				}
			}
			return errors.New("no restart yet")
		})
		t.Logf("hung master (SIGSTOP) restarted after %s", time.Since(start).Round(100*time.Millisecond))
	})

	// deploy/README.md's steps for a PostgreSQL project: the DSN, password included, goes
	// into the Secret NAME-database before the first apply; the pods mount it and read it
	// through APP_DATABASE_DSN_FILE.
	t.Run("the database Secret reaches the app as a file only", func(t *testing.T) {
		pg := testenv.StartPostgres(t, "shop")
		// The test's server listens on a unix socket in pg.Dir: the app's user must reach it.
		if err := os.Chmod(pg.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		shop := newProjectWith(t, project.Options{Name: "shop", Database: state.DatabasePostgres})
		port, health := testenv.FreePort(t), testenv.FreePort(t)
		replace(t, filepath.Join(shop, "config", "config.yaml"), "127.0.0.1:8000", "127.0.0.1:"+strconv.Itoa(port))
		const image = "localhost/scaffold-test-shop"
		tag := "0.1.0-k" + strconv.FormatInt(time.Now().UnixNano(), 36)
		opts := Options{Targets: []string{"kubernetes"}, HealthPort: health, Namespace: "db"}
		buildImage(t, ctx, conf, shop, image, tag, opts)
		gen, err := Generate(shop, opts)
		if err != nil {
			t.Fatal(err)
		}
		sk := gen.Data.Kube
		if err := cluster.ImportImage(ctx, image+":"+tag); err != nil {
			t.Fatal(err)
		}
		kubectl("create", "namespace", sk.Namespace)
		secretFile := filepath.Join(t.TempDir(), "database.dsn")
		writeFile(t, secretFile, withPassword(t, pg)+"\n")
		kubectl("create", "secret", "generic", sk.SecretName, "-n", sk.Namespace, "--from-file="+sk.SecretKey+"="+secretFile)
		production := filepath.Join(shop, "deploy", "kubernetes", "production")
		kubectl("apply", "--dry-run=server", "-k", production)
		overlay := filepath.Join(shop, "deploy", "kubernetes", "test")
		// The test's database socket is a host folder: both containers mount it (not a
		// machine limit: where this test's PostgreSQL listens).
		socketMount := fmt.Sprintf(`                volumeMounts:
                  - name: test-postgres
                    mountPath: %[1]s
`, pg.Dir)
		initPatch := fmt.Sprintf(`  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: shop
        namespace: %[1]s
      spec:
        template:
          spec:
            volumes:
              - name: test-postgres
                hostPath:
                  path: %[2]s
            initContainers:
              - name: migrate
                # No local storage isolation on this node: no ephemeral-storage.
                resources:
                  requests:
                    ephemeral-storage: null
                  limits:
                    ephemeral-storage: null
%[3]s`, sk.Namespace, pg.Dir, socketMount)
		writeFile(t, filepath.Join(overlay, "kustomization.yaml"), testOverlay("shop", sk, socketMount, initPatch))
		kubectl("apply", "-k", overlay)
		shopPods := func() podList {
			var pods podList
			if err := json.Unmarshal([]byte(kubectl("get", "pods", "-n", sk.Namespace, "-l", "app.kubernetes.io/name=shop", "-o", "json")), &pods); err != nil {
				t.Fatal(err)
			}
			return pods
		}
		shopLogs := func() string {
			var b strings.Builder
			for _, p := range shopPods().Items {
				b.WriteString(cluster.PodLog(sk.Namespace, p.Metadata.Name, "migrate"))
				b.WriteString(cluster.PodLog(sk.Namespace, p.Metadata.Name, "shop"))
			}
			return b.String()
		}
		if _, err := cluster.Kubectl(ctx, "rollout", "status", "-n", sk.Namespace, "deployment/shop", "--timeout=180s"); err != nil {
			t.Fatalf("%v\n%s\n%s", err, shopLogs(), cluster.Logs())
		}
		// Readiness is the app's own /readyz, which pings the database: the DSN from the
		// Secret's file works (config/'s would not reach this server).
		if err := wantStatus("http://127.0.0.1:"+strconv.Itoa(port)+"/readyz", 200); err != nil {
			t.Fatalf("%v\n%s", err, shopLogs())
		}
		pids, err := cluster.ContainerPids(ctx)
		if err != nil || len(pids["shop"]) != sk.Replicas {
			t.Fatalf("shop containers %v (%v), want %d", pids["shop"], err, sk.Replicas)
		}
		printed, err := cluster.Exec(ctx, "shop", "/app/bin/shop", "-c", "/app/config", "--print-config")
		if err != nil {
			t.Fatal(err)
		}
		logs := shopLogs()
		for _, master := range pids["shop"] {
			checkSecretHidden(t, master, sk.Workers, printed, "(file "+sk.SecretDir+"/"+sk.SecretKey+")", logs)
		}
		t.Logf("%d pods ready with database.dsn from the Secret %s mounted at %s", sk.Replicas, sk.SecretName, sk.SecretDir)
	})
}

// treeRSS is the resident memory of pid and its children (a master and its workers), in
// KiB, and the number of children.
func treeRSS(pid int) (kib int64, children int) {
	kib = rssKiB(pid)
	for _, c := range childrenOf(pid) {
		kib += rssKiB(c)
		children++
	}
	return kib, children
}

// environ is a process's environment.
func environ(pid int) map[string]string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	env := map[string]string{}
	for _, kv := range strings.Split(string(data), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func rssKiB(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
