// Package deploy generates the files that run a generated project in production: an nginx
// site, a supervisor program, systemd socket and service units, logrotate and tmpfiles.d
// entries and a README, all derived from the project's own config/ so that they agree with
// the app and with each other:
//
//   - nginx's proxy_read_timeout is above the app's timeout, and client_max_body_size is
//     the app's max_body_bytes;
//   - supervisor's stopwaitsecs and systemd's TimeoutStopSec are above graceful_timeout;
//   - one socket path everywhere: the app binds it under supervisor, systemd's socket unit
//     holds it (passed as fd 3) under systemd, nginx connects to it;
//   - beyond one host (kubernetes.go): the image's and the manifests' ports, probes, grace
//     period, workers and ingress limits come from the same config and the runtime's contract.
//
// Generation is a pipeline of named steps over one Context (see Steps); Write puts the
// result on disk atomically and refuses to overwrite a file edited since it was written.
package deploy

import (
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/templates"
)

// Context is what the steps share: the inputs, then what earlier steps produced.
type Context struct {
	Dir      string  // the project folder (holding scaffold.yaml and config/)
	Project  fs.FS   // the project's files, read in place of Dir when set (a project not written yet)
	Options  Options // as given; defaults are applied into Data
	Manifest *state.Manifest
	App      AppConfig
	Data     Data
	// Files are the generated files, by path relative to the output folder.
	Files *generators.FileSet
	// ConfigSum is the digest of the config/ the files were derived from (ConfigDigest);
	// Write records it beside each file, so `make package-check` can tell a stale file.
	ConfigSum string
}

// Data is what the templates see. Every string in it has been validated so that it cannot
// break out of the directive it is written into.
type Data struct {
	Name  string // project name
	Ident string // Name usable in nginx identifiers (variables, upstreams, zones)
	Out   string // the output folder as given, slash-separated: deploy, packaging, ../ops

	Prefix, Bin, ConfigDir, StaticDir string
	LogDir, AppLog, AccessLog         string
	Socket, SocketDir                 string
	ControlSocket                     string // the runtime's control socket (status, reload, scale), beside Socket
	User, Group, WebGroup             string

	Domains                       []string
	ServerName                    string   // Domains joined, or "_" for any host
	HTTPListen                    []string // nginx listen parameters
	HTTPSListen                   []string
	Upstreams                     []string // nginx upstream server lines
	HTTPS                         bool
	Cert, Key                     string
	LetsEncrypt                   bool
	ACMERoot                      string
	NginxAccessLog, NginxErrorLog string

	RootPath         string // app.root_path: "" or "/shop", the only path the site proxies
	OTelEndpoint     string // observability.endpoint: set as OTEL_EXPORTER_OTLP_ENDPOINT, "" when unset
	ServiceName      string // service.name: observability.service_name, else Name (OTEL_SERVICE_NAME)
	MaxBodyBytes     int64
	Workers          int
	Timeout          int // app timeout in seconds (0: off)
	GracefulTimeout  int // seconds
	ProxyReadTimeout int // seconds, above Timeout
	// HeaderBuffer is the proxy's buffer for the app's response headers (nginx's
	// proxy_buffer_size, ingress-nginx's proxy-buffer-size): as large as a request's header
	// line may be (large_client_header_buffers, 8k in nginx and ingress-nginx), not one page.
	HeaderBuffer string
	StopWait     int // supervisor stopwaitsecs and systemd TimeoutStopSec, above GracefulTimeout
	// KeepAlive is the app's idle keep-alive time ("5s"; "" when off); UpstreamKeepalive
	// nginx's keepalive_timeout for idle upstream connections, below it ("4s", "" when off),
	// so nginx never reuses a connection the app is closing (it does not retry a POST).
	KeepAlive, UpstreamKeepalive string
	MetricsPort                  int // the port the host targets suggest for --metrics-bind on 127.0.0.1

	// Protocol between nginx and the app: "http", "uwsgi" or "fastcgi"; AppProtocolFlag
	// is what the app's command line adds for it ("" for http).
	Protocol        string
	AppProtocolFlag string

	LogsDirectory    string   // systemd LogsDirectory= (LogDir below /var/log), or ""
	RuntimeDirectory string   // systemd RuntimeDirectory= (SocketDir below /run), or ""
	ReadWritePaths   []string // writable paths systemd must open up under ProtectSystem=strict

	Kube KubeData // the container and kubernetes targets (kubernetes.go)

	// Database is the project's --db answer: "" (none), sqlite or postgres. With one, the
	// service runs `Bin migrate up` before starting (systemd ExecStartPre).
	Database      string
	PostgresLocal bool // the DSN names this machine's server: order the unit after postgresql.service
	// Credential is where the host keeps database.dsn, password included, for systemd's
	// LoadCredential= (the app reads $CREDENTIALS_DIRECTORY/database.dsn); PostgreSQL only.
	Credential     string
	StateDirectory string // systemd StateDirectory= holding the SQLite file (below /var/lib), or ""
}

// Output paths, relative to the output folder.
func (d *Data) paths() map[string][]string {
	return map[string][]string{
		"nginx":      {"nginx/" + d.Name + ".conf"},
		"supervisor": {"supervisor/" + d.Name + ".conf", "tmpfiles/" + d.Name + ".conf"},
		"systemd":    {"systemd/" + d.Name + ".socket", "systemd/" + d.Name + ".service"},
		"logrotate":  {"logrotate/" + d.Name},
	}
}

// Steps is the generation pipeline, in order.
func Steps() []generators.Step[*Context] {
	return []generators.Step[*Context]{
		// The project's name and production config are the source of every value.
		generators.StepFunc[*Context]{Name: "read project", Fn: readProject},
		// Defaults and validation happen before anything is rendered, so bad input writes nothing.
		generators.StepFunc[*Context]{Name: "resolve options", Fn: resolve},
		generators.StepFunc[*Context]{Name: "resolve container and kubernetes options", Fn: resolveKube},
		generators.StepFunc[*Context]{Name: "nginx", Fn: target("nginx", "nginx.conf")},
		// With --domain the site answers only its names; the catch-all that refuses the
		// rest is a file of its own, installed once per host, so N sites share one nginx.
		generators.StepFunc[*Context]{Name: "nginx default server", Fn: defaultServer},
		generators.StepFunc[*Context]{Name: "supervisor", Fn: target("supervisor", "supervisor.conf", "tmpfiles.conf")},
		generators.StepFunc[*Context]{Name: "systemd", Fn: target("systemd", "systemd.socket", "systemd.service")},
		generators.StepFunc[*Context]{Name: "logrotate", Fn: target("logrotate", "logrotate")},
		// Beyond one host: image and manifests, checked only when asked for.
		generators.StepFunc[*Context]{Name: "container", Fn: containerFiles},
		generators.StepFunc[*Context]{Name: "kubernetes", Fn: kubeFiles},
		// The README describes every file and the commands around them.
		generators.StepFunc[*Context]{Name: "readme", Fn: readme},
	}
}

// Generate runs the pipeline for the project in dir.
func Generate(dir string, opts Options) (*Context, error) {
	return GenerateFS(os.DirFS(dir), dir, opts)
}

// GenerateFS runs the pipeline for the project seen through fsys, such as one rendered
// but not written yet (generators.FileSet.FS); dir names it in errors.
func GenerateFS(fsys fs.FS, dir string, opts Options) (*Context, error) {
	ctx := &Context{Dir: dir, Project: fsys, Options: opts, Files: generators.NewFileSet()}
	if err := generators.Run(ctx, Steps()); err != nil {
		return nil, err
	}
	return ctx, nil
}

// project is the project's file system: Project, or the folder Dir.
func (ctx *Context) project() fs.FS {
	if ctx.Project == nil {
		ctx.Project = os.DirFS(ctx.Dir)
	}
	return ctx.Project
}

func readProject(ctx *Context) error {
	m, err := state.ReadManifest(ctx.project(), ctx.Dir)
	if err != nil {
		return err
	}
	app, err := LoadAppConfigFS(ctx.project(), ctx.Dir)
	if err != nil {
		return err
	}
	sum, err := ConfigDigest(ctx.project())
	if err != nil {
		return err
	}
	ctx.Manifest, ctx.App, ctx.ConfigSum = m, app, sum
	return nil
}

func seconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// nginxTime writes d in nginx's time syntax, in whole seconds when it is one ("4s"), else
// in milliseconds ("1500ms"), rounded down so a limit below another stays below it.
func nginxTime(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", max(d/time.Millisecond, 1))
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func resolve(ctx *Context) error {
	o, name := ctx.Options, ctx.Manifest.Name
	if len(o.Targets) == 0 {
		return fmt.Errorf("no target: give one of %s or all", strings.Join(Targets, ", "))
	}
	d := Data{Name: name, Ident: strings.ReplaceAll(name, "-", "_"), Out: path.Clean(filepath.ToSlash(or(o.Out, "deploy")))}
	var err error
	abs := func(flag, v, def string) string {
		if err != nil {
			return ""
		}
		v = or(v, def)
		if e := checkPath(flag, v); e != nil {
			err = e
			return ""
		}
		return path.Clean(v)
	}
	d.Prefix = abs("--prefix", o.Prefix, "/opt/"+name)
	d.Bin = abs("--bin", o.Bin, d.Prefix+"/bin/"+name)
	d.ConfigDir = abs("--config-dir", o.ConfigDir, d.Prefix+"/config")
	static := ctx.App.StaticDir
	if !path.IsAbs(filepath.ToSlash(static)) {
		static = d.Prefix + "/" + filepath.ToSlash(static)
	}
	if o.StaticDir == "" {
		if e := checkPath("app.static_dir (config/)", static); e != nil && err == nil {
			err = e
		}
	}
	d.StaticDir = abs("--static-dir", o.StaticDir, static)
	d.LogDir = abs("--log-dir", o.LogDir, "/var/log/"+name)
	d.Socket = abs("--socket", o.Socket, "/run/"+name+"/"+name+".sock")
	d.ACMERoot = abs("--acme-root", o.ACMERoot, "/var/www/_letsencrypt")
	nginxLogs := abs("--nginx-log-dir", o.NginxLogDir, "/var/log/nginx")
	leDir := abs("--letsencrypt-dir", o.LetsEncryptDir, "/etc/letsencrypt")
	if err != nil {
		return err
	}
	if len(d.Socket) > 107 {
		return &InputError{"--socket", d.Socket, "must be at most 107 bytes long (the limit of a unix socket address)"}
	}
	d.SocketDir = path.Dir(d.Socket)
	d.ControlSocket = d.SocketDir + "/" + name + ".ctl"
	d.AppLog = d.LogDir + "/" + name + ".log"
	d.AccessLog = d.LogDir + "/access.log"
	d.NginxAccessLog = nginxLogs + "/" + name + ".access.log"
	d.NginxErrorLog = nginxLogs + "/" + name + ".error.log"

	d.User = or(o.User, name)
	d.Group = or(o.Group, d.User)
	d.WebGroup = or(o.WebGroup, "www-data")
	for _, u := range []struct{ flag, v string }{{"--user", d.User}, {"--group", d.Group}, {"--web-group", d.WebGroup}} {
		if err := checkUser(u.flag, u.v); err != nil {
			return err
		}
	}

	for _, dom := range o.Domains {
		if err := checkDomain(dom); err != nil {
			return err
		}
		if !contains(d.Domains, dom) {
			d.Domains = append(d.Domains, dom)
		}
	}
	d.ServerName = "_"
	if len(d.Domains) > 0 {
		d.ServerName = strings.Join(d.Domains, " ")
	}
	if d.HTTPListen, err = nginxListen("--listen", or(o.Listen, "80")); err != nil {
		return err
	}
	if d.HTTPSListen, err = nginxListen("--https-listen", or(o.HTTPSListen, "443")); err != nil {
		return err
	}

	for _, u := range o.Upstreams {
		if err := upstreamAddr(u); err != nil {
			return err
		}
		// Taken out of rotation for 10s after 3 failures; the others carry the load.
		d.Upstreams = append(d.Upstreams, u+" max_fails=3 fail_timeout=10s")
	}
	switch o.Protocol {
	case "", "http":
		d.Protocol = "http"
	case "uwsgi", "fastcgi":
		d.Protocol = o.Protocol
		d.AppProtocolFlag = " --protocol " + o.Protocol
	default:
		return &InputError{"--protocol", o.Protocol, "must be http, uwsgi or fastcgi"}
	}
	if len(d.Upstreams) == 0 {
		// A single server is never marked down: nginx keeps trying it.
		d.Upstreams = []string{"unix:" + d.Socket + " fail_timeout=0"}
	}

	d.HTTPS = o.HTTPS || o.LetsEncrypt
	switch {
	case o.LetsEncrypt && (o.Cert != "" || o.Key != ""):
		return &InputError{"--letsencrypt", "true", "cannot be combined with --cert/--key (certbot's files are used)"}
	case o.LetsEncrypt && len(d.Domains) == 0:
		return &InputError{"--letsencrypt", "true", "needs --domain: certificates are issued for names"}
	case o.LetsEncrypt:
		d.LetsEncrypt = true
		live := leDir + "/live/" + strings.TrimPrefix(d.Domains[0], "*.")
		d.Cert, d.Key = live+"/fullchain.pem", live+"/privkey.pem"
	case d.HTTPS:
		if o.Cert == "" || o.Key == "" {
			return &InputError{"--https", "true", "needs --cert FILE and --key FILE (or --letsencrypt)"}
		}
		if d.Cert = abs("--cert", o.Cert, ""); err != nil {
			return err
		}
		if d.Key = abs("--key", o.Key, ""); err != nil {
			return err
		}
	case o.Cert != "" || o.Key != "":
		return &InputError{"--cert/--key", o.Cert + o.Key, "need --https"}
	}

	app := ctx.App
	d.MaxBodyBytes = app.MaxBodyBytes
	d.RootPath = app.RootPath
	d.OTelEndpoint, d.ServiceName = app.OTelEndpoint, or(app.ServiceName, name)
	d.Workers = app.Workers
	if app.Timeout > 0 {
		d.Timeout = seconds(app.Timeout)
	}
	d.ProxyReadTimeout = seconds(proxyRead(app.Timeout))
	d.HeaderBuffer = headerBuffer
	if app.KeepAlive > 0 {
		d.KeepAlive = nginxTime(app.KeepAlive)
		d.UpstreamKeepalive = nginxTime(upstreamIdle(app.KeepAlive))
	}
	grace := max(app.GracefulTimeout, 0)
	d.GracefulTimeout = seconds(grace)
	d.StopWait = seconds(stopWait(grace))
	d.MetricsPort = app.Port + 2
	if o.MetricsPort > 0 {
		d.MetricsPort = o.MetricsPort
	}

	if rel, ok := strings.CutPrefix(d.LogDir, "/var/log/"); ok {
		d.LogsDirectory = rel
	} else {
		d.ReadWritePaths = append(d.ReadWritePaths, d.LogDir)
	}
	if err := resolveDatabase(&d, ctx.Manifest.Answers.Database, ctx.App.DatabaseDSN); err != nil {
		return err
	}
	if rel, ok := strings.CutPrefix(d.SocketDir, "/run/"); ok {
		d.RuntimeDirectory = rel
	} else {
		// The control socket is created beside the listening one.
		d.ReadWritePaths = append(d.ReadWritePaths, d.SocketDir)
	}
	ctx.Data = d
	return nil
}

// target renders the templates of one target, or skips it when it was not asked for.
func target(name string, tmpls ...string) func(*Context) error {
	return func(ctx *Context) error {
		if !contains(ctx.Options.Targets, name) {
			return generators.ErrSkip
		}
		outs := ctx.Data.paths()[name]
		for i, t := range tmpls {
			if err := render(ctx, t, outs[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// DefaultServerFile is the nginx catch-all server, beside the sites.
const DefaultServerFile = "nginx/default-server.conf"

func defaultServer(ctx *Context) error {
	if !contains(ctx.Options.Targets, "nginx") || len(ctx.Data.Domains) == 0 {
		return generators.ErrSkip
	}
	return render(ctx, "nginx-default.conf", DefaultServerFile)
}

func readme(ctx *Context) error { return render(ctx, "README.md", "README.md") }

// render executes templates/deploy/<tmpl>.tmpl with ctx.Data into the file out.
func render(ctx *Context, tmpl, out string) error {
	raw, err := templates.Deploy.ReadFile("deploy/" + tmpl + ".tmpl")
	if err != nil {
		return err
	}
	t, err := generators.NewTemplate(tmpl).Parse(string(raw))
	if err != nil {
		return fmt.Errorf("template %s: %w", tmpl, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, &ctx.Data); err != nil {
		return fmt.Errorf("template %s: %w", tmpl, err)
	}
	ctx.Files.Add(out, buf.Bytes(), 0o644)
	return nil
}

// Static is how the app names and caches its static files (fingerprint length,
// Cache-Control): the nginx site sends the same for the same URLs.
func (d *Data) Static() templates.StaticFiles { return templates.Static }

// APIPrefix is where the app's JSON API lives below RootPath: nginx answers its 50x there
// as problem+json, as the app answers its own errors.
func (d *Data) APIPrefix() string { return templates.APIPrefix }

// UpstreamError is a status nginx answers in the app's stead when it cannot reach it (down,
// restarting, too slow), with its RFC 9457 title.
type UpstreamError struct {
	Status int
	Title  string
}

// UpstreamErrors are the statuses the site answers with its own page (problem+json under
// the API) while the app is down.
func (d *Data) UpstreamErrors() []UpstreamError {
	var errs []UpstreamError
	for _, code := range []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		errs = append(errs, UpstreamError{code, http.StatusText(code)})
	}
	return errs
}

// SecurityHeaders are the site's add_header values, sent on every answer. nginx drops a
// server's add_header in a location that has its own, so such a location repeats them.
func (d *Data) SecurityHeaders() []string {
	var h []string
	if d.HTTPS {
		h = append(h, `Strict-Transport-Security "max-age=63072000"`)
	}
	return append(h, `X-Content-Type-Options "nosniff"`, `X-Frame-Options "SAMEORIGIN"`, `Referrer-Policy "strict-origin-when-cross-origin"`)
}

// LetsEncryptSteps are the commands that get the first certificate with certbot's webroot
// mode and keep it renewed. nginx refuses a site whose certificate files do not exist yet,
// so the first certificate is fetched with the plain-HTTP site, which already answers the
// ACME challenge from ACMERoot.
func (d *Data) LetsEncryptSteps() string {
	var b strings.Builder
	names := ""
	for _, dom := range d.Domains {
		names += " -d " + dom
	}
	fmt.Fprintf(&b, `
Let's Encrypt, once (nginx refuses the HTTPS site until the certificate exists):
  1. install the plain-HTTP site first, which already serves the ACME challenge:
       scaffold deploy-config nginx --domain %s --out /tmp/%s-http
       sudo install -m 0644 /tmp/%s-http/nginx/%s.conf /etc/nginx/conf.d/%s.conf
       sudo install -d -m 0755 %s && sudo nginx -t && sudo systemctl reload nginx
  2. get the certificate:
       sudo certbot certonly --webroot -w %s%s --agree-tos -m you@example.com \
         --deploy-hook "systemctl reload nginx"
  3. install this HTTPS site over it and reload:
       sudo install -m 0644 deploy/nginx/%s.conf /etc/nginx/conf.d/%s.conf
       sudo nginx -t && sudo systemctl reload nginx
Renewal: certbot's timer renews and its deploy hook reloads nginx; try it with
  sudo certbot renew --dry-run
`, strings.Join(d.Domains, ","), d.Name, d.Name, d.Name, d.Name, d.ACMERoot, d.ACMERoot, names, d.Name, d.Name)
	return b.String()
}

// resolveDatabase sets what the units need for the project's database: the migrate step,
// the order after a local PostgreSQL, a writable folder for the SQLite file.
func resolveDatabase(d *Data, database, dsn string) error {
	switch database {
	case "":
		return nil
	case state.DatabasePostgres:
		d.PostgresLocal = LocalPostgres(dsn)
		d.Credential = "/etc/" + d.Name + "/" + credentialName
	case state.DatabaseSQLite:
		file, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		if !path.IsAbs(file) {
			file = d.Prefix + "/" + file
		}
		if e := checkPath("database.dsn (config/)", file); e != nil {
			return e
		}
		dir := path.Dir(path.Clean(file))
		if rel, ok := strings.CutPrefix(dir, "/var/lib/"); ok {
			d.StateDirectory = rel
		} else {
			d.ReadWritePaths = append(d.ReadWritePaths, dir)
		}
	default:
		return fmt.Errorf("scaffold.yaml: answers.database %q: must be sqlite or postgres", database)
	}
	d.Database = database
	return nil
}

// credentialName is the secret setting's path, the name the configuration engine looks
// for in $CREDENTIALS_DIRECTORY, and the Kubernetes Secret's key.
const credentialName = "database.dsn"

// DSNPassword reports whether a PostgreSQL DSN (URL or key=value) carries a password.
func DSNPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		_, has := u.User.Password()
		return has || u.Query().Has("password")
	}
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(f, "password=") {
			return true
		}
	}
	return false
}

// LocalPostgres tells whether a PostgreSQL DSN names a server on this machine: a unix
// socket folder, localhost or a loopback address, or no host at all (libpq's default
// socket). Keyword/value DSNs ("host=... dbname=...") are read for host= alone.
func LocalPostgres(dsn string) bool {
	var hosts []string
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if h := u.Query().Get("host"); h != "" {
			hosts = strings.Split(h, ",")
		} else if u.Host != "" {
			for _, hp := range strings.Split(u.Host, ",") {
				h, _, err := net.SplitHostPort(hp)
				if err != nil {
					h = strings.Trim(hp, "[]")
				}
				hosts = append(hosts, h)
			}
		}
	} else {
		for _, f := range strings.Fields(dsn) {
			if v, ok := strings.CutPrefix(f, "host="); ok {
				hosts = strings.Split(strings.Trim(v, "'"), ",")
			}
		}
	}
	for _, h := range hosts {
		ip := net.ParseIP(h)
		if !strings.HasPrefix(h, "/") && h != "" && h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}

// headerBuffer is Data.HeaderBuffer: the nginx site and the Ingress take the app's response
// headers up to the size nginx and ingress-nginx allow a request's header line (8k).
const headerBuffer = "8k"
