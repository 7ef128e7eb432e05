// Package deployconfig implements `scaffold deploy-config`.
package deployconfig

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Options are `scaffold deploy-config`'s parsed flags and dependencies.
type Options struct {
	IO  *iostreams.IOStreams
	Ctx context.Context // bounds the --check tools

	Args   []string // targets: nginx, supervisor, systemd, logrotate, container, kubernetes, all
	Dir    string   // the project folder
	Deploy deploy.Options
	DryRun bool
	Force  bool
	Check  bool
	// Verify checks the files already in --out, as edited, instead of writing any;
	// RequireTools makes a check that a missing tool could not run a failure (CI).
	Verify       bool
	RequireTools bool
}

// NewCmdDeployConfig builds the command; runF replaces the run function in tests.
func NewCmdDeployConfig(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	d := &opts.Deploy
	cmd := &cobra.Command{
		Use:   "deploy-config {nginx|supervisor|systemd|logrotate|container|kubernetes|all}...",
		Short: "Write nginx, supervisor, systemd, logrotate, container and Kubernetes files for this project",
		Long: `Write the files that run this project in production, derived from its config/
(production mode) so they agree with the app and with each other: nginx waits longer than
the app's timeout and accepts the app's max_body_bytes, supervisor and systemd wait longer
than its graceful_timeout before killing, and all of them use one socket path.

Run it inside a project made by ` + "`scaffold new`" + `, after or before ` + "`make install PREFIX=...`" + `.
The files go to --out (deploy/ by default) with a README.md saying where each one is
installed. A file edited since scaffold wrote it is kept unless --force; --dry-run shows
what would change as a diff; --check runs nginx -t and systemd-analyze where installed.

What scaffold wrote is recorded in the project's scaffold.yaml (commit it with the files):
each file's checksum under files:, by its path from the project folder
(deploy/nginx/NAME.conf), and the digest of config/ it was derived from under derived_from:
(make package-check reads it). An --out outside the project folder is recorded as given,
relative (../ops/nginx/NAME.conf) or absolute (/srv/NAME/nginx/NAME.conf), so the same --out
finds the record again; the files and scaffold.yaml are written in one atomic step.

--verify writes nothing: it checks the files already in --out, as you may have edited
them (make verify-deploy runs it, and so does the project's CI): nginx -t on the site with
stand-ins for what is the server's alone (upstream hosts, listen ports, log folders, a
certificate not on this machine), systemd-analyze verify and security (exposure at most 2.0),
a strict decode of the manifests and kube-score on the production overlay, promtool on
monitoring/, and the timeout rules across the files held against config/ (nginx waits
longer than the app, the app's keep-alive outlasts nginx's, the service manager waits
longer than the drain, the grace period covers preStop + graceful timeout), each failure
naming the file, the line and the rule. A check whose tool is missing is reported as
skipped with how to install it; --require-tools makes that a failure.`,
		Example: `  scaffold deploy-config all --domain shop.example.com
  scaffold deploy-config nginx --domain shop.example.com --letsencrypt
  scaffold deploy-config nginx --domain shop.example.com --upstream 10.0.0.2:8000,10.0.0.3:8000
  scaffold deploy-config systemd --prefix /usr/lib/shop --config-dir /etc/shop --bin /usr/bin/shop
  scaffold deploy-config all --dry-run
  scaffold deploy-config --verify
  scaffold deploy-config container kubernetes --image registry.example.com/shop:1.2.0 --cpu-limit 2 --max-replicas 6`,
		Args: func(cmd *cobra.Command, args []string) error {
			if verify, _ := cmd.Flags().GetBool("verify"); verify {
				if len(args) > 0 {
					return cmdutil.FlagErrorf("deploy-config --verify takes no target: it checks every file already in --out")
				}
				return nil
			}
			if len(args) == 0 {
				return cmdutil.FlagErrorf("deploy-config needs a target: %s or all", strings.Join(deploy.Targets, ", "))
			}
			return nil
		},
		ValidArgs: append(append([]string(nil), deploy.Targets...), "all"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			if opts.Verify {
				return verifyRun(opts)
			}
			return deployConfigRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Dir, "dir", ".", "project folder (holding scaffold.yaml and config/)")
	fl.StringVar(&d.Out, "out", "deploy", "output folder, relative to the project folder or absolute (recorded as given in scaffold.yaml)")
	fl.StringVar(&d.Prefix, "prefix", "", "install prefix, as in make install PREFIX=DIR (default /opt/NAME)")
	fl.StringVar(&d.Bin, "bin", "", "path of the installed binary (default PREFIX/bin/NAME)")
	fl.StringVar(&d.ConfigDir, "config-dir", "", "folder of the installed config.yaml, logging.yaml, setting.yaml (default PREFIX/config)")
	fl.StringVar(&d.StaticDir, "static-dir", "", "folder of the installed static files served by nginx at /static/ (default PREFIX/<production app.static_dir>)")
	fl.StringVar(&d.LogDir, "log-dir", "", "folder of the app's log files (default /var/log/NAME)")
	fl.StringVar(&d.Socket, "socket", "", "unix socket between nginx and the app (default /run/NAME/NAME.sock)")
	fl.StringVar(&d.User, "user", "", "user the app runs as (default NAME)")
	fl.StringVar(&d.Group, "group", "", "group the app runs as (default the --user name)")
	fl.StringVar(&d.WebGroup, "web-group", "", "group of the web server, allowed to connect to the socket (default www-data)")
	cmdutil.ListVar(fl, &d.Domains, "domain", "server name(s) nginx answers for, comma-separated; other names are refused (default: any)")
	fl.StringVar(&d.Listen, "listen", "", "nginx HTTP listen address: port, host:port or [v6]:port (default 80)")
	fl.StringVar(&d.HTTPSListen, "https-listen", "", "nginx HTTPS listen address (default 443)")
	cmdutil.ListVar(fl, &d.Upstreams, "upstream", "app servers as host:port, comma-separated, instead of the local socket")
	fl.BoolVar(&d.HTTPS, "https", false, "serve HTTPS (with --cert and --key) and redirect HTTP to it")
	fl.StringVar(&d.Cert, "cert", "", "TLS certificate chain file (PEM) for --https")
	fl.StringVar(&d.Key, "key", "", "TLS private key file (PEM) for --https")
	fl.BoolVar(&d.LetsEncrypt, "letsencrypt", false, "HTTPS with a Let's Encrypt certificate from certbot's webroot mode (prints the steps)")
	fl.StringVar(&d.LetsEncryptDir, "letsencrypt-dir", "", "certbot's configuration folder (default /etc/letsencrypt)")
	fl.StringVar(&d.ACMERoot, "acme-root", "", "webroot of ACME HTTP-01 challenges (default /var/www/_letsencrypt)")
	fl.StringVar(&d.NginxLogDir, "nginx-log-dir", "", "folder of nginx's access and error logs for this site (default /var/log/nginx)")
	// container and kubernetes targets
	fl.StringVar(&d.Image, "image", "", "image the Kubernetes manifests run, REPOSITORY[:TAG] (default localhost/NAME:dev)")
	fl.StringVar(&d.Namespace, "namespace", "", "namespace of the production overlay (default: kubectl's current one)")
	fl.IntVar(&d.Replicas, "replicas", 0, "pods of the Deployment (default 2)")
	fl.IntVar(&d.MaxReplicas, "max-replicas", 0, "add a HorizontalPodAutoscaler from --replicas up to this many pods (default: none)")
	fl.IntVar(&d.HealthPort, "health-port", 0, "port of the runtime's health listener (/livez, /readyz, /startupz) (default the app's port + 1)")
	fl.IntVar(&d.MetricsPort, "metrics-port", 0, "port of the master's Prometheus metrics listener (--metrics-bind) in the pods; on hosts, the port the systemd and supervisor files suggest (default the health port + 1; hosts: the app's port + 2)")
	fl.StringVar(&d.ReadinessPath, "readiness-path", "", "readiness probe path; another than /readyz probes the app's own route on its port (default /readyz)")
	fl.IntVar(&d.PreStop, "prestop", 0, "seconds of preStop sleep before SIGTERM, -1 for none (default 5)")
	fl.IntVar(&d.UpstreamIdle, "upstream-idle", 0, "seconds the proxy in front of the pods keeps an idle connection to one (ingress-nginx's upstream-keepalive-timeout, a load balancer's idle timeout); the pods keep theirs longer (default 60)")
	fl.StringVar(&d.KubeVersion, "kube-version", "", "oldest Kubernetes version the manifests must run on, 1.N; below 1.30 the runtime's --shutdown-delay replaces the preStop sleep (default "+deploy.DefaultKubeVersion+")")
	fl.StringVar(&d.IngressFrom, "ingress-namespace", "", "namespace of the ingress controller: the NetworkPolicy lets only its pods reach the app's port (default ingress-nginx)")
	fl.StringVar(&d.CPURequest, "cpu-request", "", "CPU request of a pod (default 250m)")
	fl.StringVar(&d.CPULimit, "cpu-limit", "", "CPU limit of a pod; sets the workers per pod (default 1)")
	fl.StringVar(&d.MemoryRequest, "memory-request", "", "memory request of a pod (default 128Mi)")
	fl.StringVar(&d.MemoryLimit, "memory-limit", "", "memory limit of a pod (default 256Mi)")
	// how nginx talks to the app
	fl.StringVar(&d.Protocol, "protocol", "http", "how nginx talks to the app: http (proxy_pass), uwsgi (uwsgi_pass) or fastcgi (fastcgi_pass); the app runs with --protocol")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print what would change as a unified diff, write nothing")
	fl.BoolVar(&opts.Force, "force", false, "overwrite files edited since scaffold wrote them")
	fl.BoolVar(&opts.Check, "check", false, "validate the files with nginx -t and systemd-analyze (where installed) before writing")
	fl.BoolVar(&opts.Verify, "verify", false, "write nothing: check the files already in --out, as edited, with every tool that applies and the timeout rules against config/ (make verify-deploy)")
	fl.BoolVar(&opts.RequireTools, "require-tools", false, "with --verify: fail when a checking tool is missing instead of skipping its check (CI)")
	return cmd
}

func deployConfigRun(opts *Options) error {
	targets, err := deploy.ParseTargets(opts.Args)
	if err != nil {
		return cmdutil.FlagErrorf("%v", err)
	}
	opts.Deploy.Targets = targets
	dir, err := cmdutil.ProjectDir(opts.IO, opts.Dir)
	if err != nil {
		return err
	}
	run := &pipeline.DeployConfigRun{Ctx: opts.Ctx, Dir: dir, Options: opts.Deploy, Check: opts.Check, Force: opts.Force, DryRun: opts.DryRun}
	err = pipeline.DeployConfig(run)
	for _, s := range run.Passed {
		fmt.Fprintf(opts.IO.ErrOut, "check passed: %s\n", s)
	}
	for _, s := range run.Skipped {
		fmt.Fprintf(opts.IO.ErrOut, "check skipped: %s\n", s)
	}
	var inputErr *deploy.InputError
	if errors.As(err, &inputErr) {
		return &cmdutil.FlagError{Err: inputErr}
	}
	if err != nil {
		return err
	}
	report := opts.IO.Out
	if opts.DryRun {
		opts.IO.Out.Write(deploy.Diff(run.Plan))
		report = opts.IO.ErrOut
	}
	for _, p := range run.Plan {
		fmt.Fprintf(report, "%-9s %s\n", describe(p.Change, opts.Force), filepath.Join(run.Out.Path, filepath.FromSlash(p.Path)))
	}
	if opts.DryRun {
		fmt.Fprintln(opts.IO.ErrOut, "dry run: nothing written")
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "%-9s %s: commit it with the files\n", "recorded", filepath.Join(dir, state.ManifestFile))
	fmt.Fprintf(opts.IO.Out, "See %s for where each file goes.\n", filepath.Join(run.Out.Path, "README.md"))
	if run.Generated.Data.LetsEncrypt {
		fmt.Fprint(opts.IO.Out, run.Generated.Data.LetsEncryptSteps())
	}
	return nil
}

// verifyRun is --verify: the files in --out checked as they are, nothing written.
func verifyRun(opts *Options) error {
	dir, err := cmdutil.ProjectDir(opts.IO, opts.Dir)
	if err != nil {
		return err
	}
	report, err := deploy.Verify(opts.Ctx, dir, opts.Deploy.Out)
	if report == nil {
		return err
	}
	for _, s := range report.Passed {
		fmt.Fprintf(opts.IO.ErrOut, "verify passed:  %s\n", s)
	}
	for _, s := range report.Notes {
		fmt.Fprintf(opts.IO.ErrOut, "verify note:    not checked: %s\n", s)
	}
	for _, s := range report.Skipped {
		fmt.Fprintf(opts.IO.ErrOut, "verify skipped: %s\n", s)
	}
	if opts.RequireTools && len(report.Skipped) > 0 {
		err = errors.Join(err, fmt.Errorf("--require-tools: %d check(s) skipped for a missing tool: %s", len(report.Skipped), strings.Join(report.Skipped, "; ")))
	}
	if err != nil {
		return fmt.Errorf("verify failed:\n%w", err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "verify: the files in %s pass every check that ran\n", opts.Deploy.Out)
	return nil
}

func describe(c state.Change, force bool) string {
	if c == state.Conflict || c == state.Kept {
		if force {
			return "overwrite"
		}
		return "kept"
	}
	return string(c)
}
