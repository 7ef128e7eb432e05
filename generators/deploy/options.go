package deploy

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Targets are the accepted first arguments of `scaffold deploy-config`, in output order.
var Targets = []string{"nginx", "supervisor", "systemd", "logrotate", "container", "kubernetes"}

// Options are the choices of one deploy-config run. Empty fields take the documented
// defaults (see Defaults).
type Options struct {
	Targets []string // nginx, supervisor, systemd, logrotate; "all" is expanded by ParseTargets

	Prefix    string // install prefix of `make install PREFIX=`; default /opt/NAME
	Bin       string // default PREFIX/bin/NAME
	ConfigDir string // default PREFIX/config
	StaticDir string // default PREFIX/<production app.static_dir>
	LogDir    string // default /var/log/NAME
	Socket    string // default /run/NAME/NAME.sock
	User      string // default NAME
	Group     string // default User
	WebGroup  string // the web server's group, allowed to connect to the socket; default www-data

	Domains     []string // server_name; none: any host (no default server refusing others)
	Listen      string   // nginx HTTP listen: port, host:port or [v6]:port; default 80
	HTTPSListen string   // nginx HTTPS listen; default 443
	Upstreams   []string // host:port of app servers on other machines; default the socket
	HTTPS       bool
	Cert, Key   string
	LetsEncrypt bool
	// LetsEncryptDir is certbot's configuration folder; default /etc/letsencrypt.
	LetsEncryptDir string
	// ACMERoot is the webroot of the ACME HTTP-01 challenge; default /var/www/_letsencrypt.
	ACMERoot    string
	NginxLogDir string // default /var/log/nginx

	// Out is the output folder as given (relative to the project, or absolute); it names
	// the files in the README's install commands. Default deploy.
	Out string

	// Container and Kubernetes (container.go, kubernetes.go).
	Image         string // image the manifests run, REPO[:TAG]; default localhost/NAME:dev (`make image TAG=dev`)
	Namespace     string // the production overlay's namespace; default none (kubectl's current one)
	Replicas      int    // pods; default 2 (the PodDisruptionBudget keeps one)
	MaxReplicas   int    // above Replicas: a HorizontalPodAutoscaler between the two; 0: none
	HealthPort    int    // the runtime's health listener (--health-bind); default the app's port + 1
	MetricsPort   int    // the master's Prometheus listener (--metrics-bind); default the health port + 1 (hosts: the app's port + 2)
	ReadinessPath string // readiness probe path; default the runtime's /readyz on HealthPort, another path probes the app's port
	PreStop       int    // seconds of lifecycle.preStop.sleep; default 5; -1: none
	UpstreamIdle  int    // seconds the proxy in front keeps an idle connection to a pod; default 60 (ingress-nginx, AWS ALB)
	KubeVersion   string // the oldest Kubernetes minor the manifests must run on, "1.N"; default DefaultKubeVersion
	IngressFrom   string // namespace of the ingress controller, the only one that reaches the app's port; default ingress-nginx
	CPURequest    string // resource quantities; defaults 250m, 1, 128Mi, 256Mi
	CPULimit      string
	MemoryRequest string
	MemoryLimit   string

	// Protocol is how nginx talks to the app: http (proxy_pass, default), uwsgi
	// (uwsgi_pass) or fastcgi (fastcgi_pass); the app is started with --protocol.
	Protocol string
}

// ParseTargets expands "all" and rejects unknown names.
func ParseTargets(args []string) ([]string, error) {
	seen := map[string]bool{}
	for _, a := range args {
		switch {
		case a == "all":
			for _, t := range Targets {
				seen[t] = true
			}
		case contains(Targets, a):
			seen[a] = true
		default:
			return nil, fmt.Errorf("unknown target %q: must be one of %s or all", a, strings.Join(Targets, ", "))
		}
	}
	var out []string
	for _, t := range Targets {
		if seen[t] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no target: give one of %s or all", strings.Join(Targets, ", "))
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// InputError is a bad option value; Flag names the flag ("--domain").
type InputError struct {
	Flag  string
	Value string
	Rule  string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Flag, e.Value, e.Rule)
}

var (
	// safePath: characters that need no quoting in nginx, supervisor, systemd, logrotate
	// and tmpfiles.d files, and cannot start a new directive or variable.
	safePath = regexp.MustCompile(`^/[A-Za-z0-9._/@+-]*$`)
	hostName = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	userName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
)

const (
	pathRule = "must be an absolute path of letters, digits and . _ / @ + - only (no spaces, quotes, ;, {}, $, newlines or ..)"
	userRule = "must be a user or group name: a lowercase letter or _, then lowercase letters, digits, _ or -, at most 32 characters"
)

func checkPath(flag, p string) error {
	if !safePath.MatchString(p) || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "//") {
		return &InputError{flag, p, pathRule}
	}
	return nil
}

func checkUser(flag, u string) error {
	if !userName.MatchString(u) {
		return &InputError{flag, u, userRule}
	}
	return nil
}

func checkDomain(d string) error {
	if len(d) > 253 || !hostName.MatchString(d) {
		return &InputError{"--domain", d, "must be a lowercase host name (labels of letters, digits and -, separated by dots, optionally starting with *.), without port or scheme"}
	}
	return nil
}

// nginxListen turns --listen's value into nginx listen parameters: a bare port listens on
// IPv4 and IPv6.
func nginxListen(flag, v string) ([]string, error) {
	rule := "must be a port (80), host:port (127.0.0.1:8080) or [ipv6]:port ([::1]:8080)"
	if port, err := strconv.Atoi(v); err == nil {
		if port < 1 || port > 65535 {
			return nil, &InputError{flag, v, "port must be 1-65535"}
		}
		return []string{v, "[::]:" + v}, nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return nil, &InputError{flag, v, rule}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, &InputError{flag, v, "port must be 1-65535"}
	}
	if ip := net.ParseIP(host); ip == nil && !hostName.MatchString(host) {
		return nil, &InputError{flag, v, rule}
	}
	return []string{v}, nil
}

// upstreamAddr checks one --upstream entry: host:port of an app server.
func upstreamAddr(v string) error {
	rule := "must be host:port or [ipv6]:port of an app server, comma-separated for several"
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return &InputError{"--upstream", v, rule}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return &InputError{"--upstream", v, "port must be 1-65535"}
	}
	if ip := net.ParseIP(host); ip == nil && !hostName.MatchString(host) {
		return &InputError{"--upstream", v, rule}
	}
	return nil
}
