// Package k8stest starts a real single-node Kubernetes for tests, on loopback only: etcd
// and containerd (Debian's), kube-apiserver, kube-controller-manager, kube-scheduler and
// kubelet v1.34 (built by .ci/build-k8s into BinDir), each on free ports, in a temporary
// folder. Pods must use hostNetwork (there is no CNI beyond loopback and no kube-proxy):
// Service ClusterIPs do not route and must never be addressed.
//
// Stop ends every process Start started, by pid (containerd's shims too, from the pid
// files containerd writes), unmounts what the kubelet and containerd mounted below the
// folder, and removes it.
package k8stest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// BinDirEnv names the folder of the Kubernetes binaries when set: .ci/build-k8s builds
// into it and the tests run from it, so a rehearsal of a new machine (.ci/rehearse) can
// point it at an empty folder and have them built again.
const BinDirEnv = "SCAFFOLD_K8S_BIN"

// BinDir holds the Kubernetes binaries (.ci/build-k8s builds them when missing):
// $SCAFFOLD_K8S_BIN, else /opt/k8s/v1.34.4/bin.
var BinDir = cmp.Or(os.Getenv(BinDirEnv), "/opt/k8s/v1.34.4/bin")

// Binaries are what Start runs from BinDir; the others come from PATH.
var Binaries = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl"}

// HostTools are the Debian packages' commands Start needs.
var HostTools = []string{"etcd", "containerd", "ctr", "runc", "podman", "openssl"}

// PauseImage is the sandbox image of every pod, built by Start from pauseSource when
// missing (no registry is reachable): a static Go program that waits for TERM.
const PauseImage = "localhost/scaffold-k8stest-pause:1"

const pauseSource = `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
`

// Cluster is a running single-node cluster.
type Cluster struct {
	Dir        string // everything lives below it
	Kubeconfig string
	Node       string
	ctrdSock   string
	podmanEnv  []string
	procs      []*proc      // in start order
	migrateReq []byte       // net.ipv4.tcp_migrate_req before Start set it; nil: untouched
	execs      atomic.Int64 // Exec's count, for unique exec ids
}

// migrateReqPath is the sysctl that hands the connections queued on a closing listener
// to another socket of its SO_REUSEPORT group instead of resetting them (Linux 5.14+).
// hostNetwork pods share the host's network namespace, so it is the node's setting: the
// generated README asks for it where pods use hostNetwork with --reuse-port, and Start
// sets it for the cluster's life.
const migrateReqPath = "/proc/sys/net/ipv4/tcp_migrate_req"

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// Missing lists the binaries and tools that are not installed.
func Missing() []string {
	var miss []string
	for _, b := range Binaries {
		if fi, err := os.Stat(filepath.Join(BinDir, b)); err != nil || fi.Mode()&0o111 == 0 {
			miss = append(miss, filepath.Join(BinDir, b))
		}
	}
	for _, t := range HostTools {
		if _, err := exec.LookPath(t); err != nil {
			miss = append(miss, t)
		}
	}
	return miss
}

func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Start brings the cluster up and waits until the node is Ready. podmanEnv is the
// environment of podman (its CONTAINERS_CONF), which builds the pause image.
func Start(ctx context.Context, podmanEnv []string) (c *Cluster, err error) {
	if miss := Missing(); len(miss) > 0 {
		return nil, fmt.Errorf("k8stest: missing %s", strings.Join(miss, ", "))
	}
	dir, err := os.MkdirTemp("", "scaffold-k8s-*")
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: dir, Node: "scaffold-test-node", podmanEnv: podmanEnv}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, c.Logs())
			c.Stop()
		}
	}()
	if old, err := os.ReadFile(migrateReqPath); err == nil && strings.TrimSpace(string(old)) != "1" {
		if err := os.WriteFile(migrateReqPath, []byte("1\n"), 0o644); err != nil {
			return c, fmt.Errorf("k8stest: set net.ipv4.tcp_migrate_req=1 for the rollouts of hostNetwork pods with --reuse-port: %w", err)
		}
		c.migrateReq = old
	}
	for _, d := range []string{"cp", "ctrd/cni", "kubelet/root", "etcd"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return c, err
		}
	}
	p, err := freePorts(9)
	if err != nil {
		return c, err
	}
	etcdClient, etcdPeer, apiPort, cmPort, schedPort, kubeletPort, kubeletHealthz := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	c.ctrdSock = filepath.Join(dir, "ctrd", "containerd.sock")
	if out, err := exec.CommandContext(ctx, "openssl", "genrsa", "-out", filepath.Join(dir, "cp", "sa.key"), "2048").CombinedOutput(); err != nil {
		return c, fmt.Errorf("openssl: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "cp", "tokens.csv"), []byte("test-token,admin,admin,system:masters\n"), 0o600); err != nil {
		return c, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: test-token}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
`, apiPort)
	if err := os.WriteFile(c.Kubeconfig, []byte(kc), 0o600); err != nil {
		return c, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	if err := c.start("etcd", "etcd", "--data-dir", filepath.Join(dir, "etcd", "data"), "--listen-client-urls", etcdURL,
		"--advertise-client-urls", etcdURL, "--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster", "default=http://127.0.0.1:"+strconv.Itoa(etcdPeer)); err != nil {
		return c, err
	}
	sa := filepath.Join(dir, "cp", "sa.key")
	if err := c.start("kube-apiserver", filepath.Join(BinDir, "kube-apiserver"), "--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort), "--advertise-address=127.0.0.1",
		"--cert-dir="+filepath.Join(dir, "cp", "certs"), "--service-account-key-file="+sa, "--service-account-signing-key-file="+sa,
		"--service-account-issuer=https://kubernetes.default.svc", "--token-auth-file="+filepath.Join(dir, "cp", "tokens.csv"),
		"--authorization-mode=AlwaysAllow", "--service-cluster-ip-range=10.96.0.0/16", "--endpoint-reconciler-type=none"); err != nil {
		return c, err
	}
	if err := c.waitFor(ctx, "the API server", 90*time.Second, func() error {
		_, err := c.Kubectl(ctx, "get", "--raw", "/readyz")
		return err
	}); err != nil {
		return c, err
	}
	if err := c.start("kube-controller-manager", filepath.Join(BinDir, "kube-controller-manager"), "--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig, "--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(cmPort), "--service-account-private-key-file="+sa,
		"--root-ca-file="+filepath.Join(dir, "cp", "certs", "apiserver.crt"), "--use-service-account-credentials=false",
		"--leader-elect=false", "--controllers=*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle"); err != nil {
		return c, err
	}
	if err := c.start("kube-scheduler", filepath.Join(BinDir, "kube-scheduler"), "--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig, "--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(schedPort), "--leader-elect=false"); err != nil {
		return c, err
	}
	ctrdConf := filepath.Join(dir, "ctrd", "config.toml")
	if err := os.WriteFile(ctrdConf, []byte(fmt.Sprintf(`version = 2
root = "%[1]s/ctrd/root"
state = "%[1]s/ctrd/state"
[grpc]
  address = "%[2]s"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[3]s"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[1]s/ctrd/cni"
`, dir, c.ctrdSock, PauseImage)), 0o600); err != nil {
		return c, err
	}
	if err := os.WriteFile(filepath.Join(dir, "ctrd", "cni", "10-lo.conflist"), []byte(`{"cniVersion": "0.4.0", "name": "lo-only", "plugins": [{"type": "loopback"}]}`+"\n"), 0o600); err != nil {
		return c, err
	}
	if err := c.start("containerd", "containerd", "--config", ctrdConf); err != nil {
		return c, err
	}
	if err := c.waitFor(ctx, "containerd", 30*time.Second, func() error {
		_, err := c.ctr(ctx, "version")
		return err
	}); err != nil {
		return c, err
	}
	if err := c.buildPause(ctx); err != nil {
		return c, err
	}
	if err := c.ImportImage(ctx, PauseImage); err != nil {
		return c, err
	}
	kubeletConf := filepath.Join(dir, "kubelet", "config.yaml")
	if err := os.WriteFile(kubeletConf, []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://%s
enforceNodeAllocatable: []
cgroupsPerQOS: false
localStorageCapacityIsolation: false
podLogsDir: %s
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%%", imagefs.available: "1%%"}
`, kubeletPort, kubeletHealthz, c.ctrdSock, filepath.Join(dir, "pods"))), 0o600); err != nil {
		return c, err
	}
	if err := c.start("kubelet", filepath.Join(BinDir, "kubelet"), "--kubeconfig="+c.Kubeconfig, "--config="+kubeletConf,
		"--node-ip=127.0.0.1", "--hostname-override="+c.Node, "--root-dir="+filepath.Join(dir, "kubelet", "root"),
		"--cert-dir="+filepath.Join(dir, "kubelet", "pki")); err != nil {
		return c, err
	}
	if err := c.waitFor(ctx, "the node to register", 90*time.Second, func() error {
		_, err := c.Kubectl(ctx, "get", "node", c.Node)
		return err
	}); err != nil {
		return c, err
	}
	if _, err := c.Kubectl(ctx, "wait", "--for=condition=Ready", "node/"+c.Node, "--timeout=90s"); err != nil {
		return c, err
	}
	// Pods of the default namespace need its service account.
	if err := c.waitFor(ctx, "the default service account", 60*time.Second, func() error {
		_, err := c.Kubectl(ctx, "get", "serviceaccount", "default")
		return err
	}); err != nil {
		return c, err
	}
	return c, nil
}

// buildPause builds PauseImage with podman unless it exists.
func (c *Cluster) buildPause(ctx context.Context) error {
	if c.podman(ctx, "image", "exists", PauseImage) == nil {
		return nil
	}
	dir := filepath.Join(c.Dir, "pause")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := map[string]string{"pause.go": pauseSource, "Containerfile": "FROM scratch\nCOPY pause /pause\nENTRYPOINT [\"/pause\"]\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", "pause", "pause.go")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local", "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("k8stest: building the pause program: %v\n%s", err, out)
	}
	return c.podman(ctx, "build", "-q", "-t", PauseImage, dir)
}

func (c *Cluster) start(name, bin string, args ...string) error {
	log := filepath.Join(c.Dir, name+".log")
	f, err := os.Create(log)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// A process group of its own: a terminal's Ctrl-C goes to the test, and Stop decides.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("k8stest: %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	c.procs = append(c.procs, p)
	return nil
}

func (c *Cluster) waitFor(ctx context.Context, what string, limit time.Duration, cond func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		for _, p := range c.procs {
			select {
			case <-p.done:
				return fmt.Errorf("k8stest: %s exited while waiting for %s", p.name, what)
			default:
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("k8stest: waiting for %s: %v", what, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Kubectl runs kubectl against the cluster and returns its standard output.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	return c.KubectlIn(ctx, nil, args...)
}

// KubectlIn is Kubectl with stdin.
func (c *Cluster) KubectlIn(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(BinDir, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (c *Cluster) ctr(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"-a", c.ctrdSock, "-n", "k8s.io"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (c *Cluster) podman(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = c.podmanEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("podman %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ImportImage copies a podman image into the cluster's containerd (pods then use
// imagePullPolicy: Never).
func (c *Cluster) ImportImage(ctx context.Context, image string) error {
	archive := filepath.Join(c.Dir, "image.tar")
	defer os.Remove(archive)
	if err := c.podman(ctx, "save", "--format", "oci-archive", "-o", archive, image); err != nil {
		return err
	}
	_, err := c.ctr(ctx, "images", "import", archive)
	return err
}

// ContainerPids returns the host pid of each running container's first process
// (for a pod of the generated Deployment, its prefork master), by container name.
func (c *Cluster) ContainerPids(ctx context.Context) (map[string][]int, error) {
	running, err := c.runningContainers(ctx)
	if err != nil {
		return nil, err
	}
	pids := map[string][]int{}
	for _, rc := range running {
		pids[rc.name] = append(pids[rc.name], rc.pid)
	}
	return pids, nil
}

// Exec runs a command in a running container named name, as kubectl exec would (which
// cannot reach a node without a routable address): with the container's user,
// environment and mounts. It returns the command's output.
func (c *Cluster) Exec(ctx context.Context, name string, args ...string) (string, error) {
	running, err := c.runningContainers(ctx)
	if err != nil {
		return "", err
	}
	for _, rc := range running {
		if rc.name == name {
			id := fmt.Sprintf("test-exec-%d", c.execs.Add(1))
			return c.ctr(ctx, append([]string{"tasks", "exec", "--exec-id", id, rc.id}, args...)...)
		}
	}
	return "", fmt.Errorf("k8stest: no running container named %s", name)
}

// runningContainer is a running container of the cluster's containerd: its id, the host
// pid of its first process, and its name in the pod.
type runningContainer struct {
	id   string
	pid  int
	name string
}

func (c *Cluster) runningContainers(ctx context.Context) ([]runningContainer, error) {
	out, err := c.ctr(ctx, "tasks", "ls")
	if err != nil {
		return nil, err
	}
	var running []runningContainer
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[2] != "RUNNING" {
			continue
		}
		pid, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		info, err := c.ctr(ctx, "containers", "info", f[0])
		if err != nil {
			continue
		}
		if name := between(info, `"io.kubernetes.container.name": "`, `"`); name != "" {
			running = append(running, runningContainer{f[0], pid, name})
		}
	}
	return running, nil
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return ""
}

// PodLog is the current log of a pod's container (kubectl logs cannot reach a node without
// a routable address; the kubelet writes the files below the cluster's folder).
func (c *Cluster) PodLog(namespace, pod, container string) string {
	matches, _ := filepath.Glob(filepath.Join(c.Dir, "pods", namespace+"_"+pod+"_*", container, "*.log"))
	sort.Strings(matches)
	var b strings.Builder
	for _, m := range matches {
		data, _ := os.ReadFile(m)
		fmt.Fprintf(&b, "== %s\n%s", m, data)
	}
	return b.String()
}

// Logs returns the last lines of every component's log, for a failure message.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, p := range c.procs {
		data, _ := os.ReadFile(p.log)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&b, "== %s (last lines of %s)\n%s\n", p.name, p.log, strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
	return b.String()
}

// Stop deletes every workload, stops the components in reverse order by pid (TERM, then
// KILL after a while), kills the containerd shims left behind by their recorded pids,
// unmounts everything below Dir and removes it. It is safe to call twice.
func (c *Cluster) Stop() error {
	if c.Dir == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if c.running("kubelet") && c.running("kube-apiserver") {
		_, _ = c.Kubectl(ctx, "delete", "deployments,replicasets,pods", "--all", "-A", "--wait=true", "--timeout=60s", "--grace-period=1")
	}
	if c.running("containerd") {
		// What the kubelet did not remove: kill each task, then the container.
		if out, err := c.ctr(ctx, "tasks", "ls", "-q"); err == nil {
			for _, id := range strings.Fields(out) {
				_, _ = c.ctr(ctx, "tasks", "kill", "-s", "SIGKILL", id)
			}
			time.Sleep(500 * time.Millisecond)
			for _, id := range strings.Fields(out) {
				_, _ = c.ctr(ctx, "tasks", "delete", "-f", id)
			}
		}
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		if p.name == "containerd" {
			c.killShims()
		}
		if err := p.stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	c.killShims()
	if err := c.unmountAll(); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		errs = append(errs, err)
	}
	if c.migrateReq != nil {
		if err := os.WriteFile(migrateReqPath, c.migrateReq, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("k8stest: restore net.ipv4.tcp_migrate_req: %w", err))
		}
		c.migrateReq = nil
	}
	c.Dir = ""
	return errors.Join(errs...)
}

func (c *Cluster) running(name string) bool {
	for _, p := range c.procs {
		if p.name == name {
			select {
			case <-p.done:
				return false
			default:
				return true
			}
		}
	}
	return false
}

func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("k8stest: %s (pid %d) did not exit after KILL", p.name, p.cmd.Process.Pid)
	}
}

// killShims kills the containerd-shim processes containerd started below Dir, by the
// pids it recorded there (they outlive containerd by design).
func (c *Cluster) killShims() {
	files, _ := filepath.Glob(filepath.Join(c.Dir, "ctrd", "state", "io.containerd.runtime.v2.task", "*", "*", "shim.pid"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 1 {
			continue
		}
		// Only a shim of this cluster: its command line names this folder's socket.
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte("containerd-shim")) && bytes.Contains(cmdline, []byte(c.ctrdSock)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// unmountAll unmounts every mount point below Dir, deepest first.
func (c *Cluster) unmountAll() error {
	var errs []error
	for range 3 {
		points := c.mountPoints()
		if len(points) == 0 {
			return nil
		}
		errs = errs[:0]
		for _, m := range points {
			if err := syscall.Unmount(m, 0); err != nil {
				if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
					errs = append(errs, fmt.Errorf("umount %s: %w", m, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) mountPoints() []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == c.Dir || strings.HasPrefix(f[4], c.Dir+"/")) {
			points = append(points, f[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	return points
}
