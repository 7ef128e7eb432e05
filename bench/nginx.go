package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// nginx -> the generated app on a unix socket, over each protocol the site generator
// writes (deploy-config nginx --protocol): HTTP with kept-alive upstream connections, and
// uwsgi and FastCGI, which take a connection per request. One shell starts the app and
// then becomes nginx, so the process group holds both and Stop ends both.

// nginxProtocols are the upstream protocols measured.
var nginxProtocols = []string{"http", "uwsgi", "fastcgi"}

// nginxLocation is the location block of the generated site for each protocol, with the
// same parameters (deploy/nginx.conf.tmpl).
func nginxLocation(protocol string) string {
	if protocol == "http" {
		return `proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s_pass app;", protocol)
	for _, kv := range [][2]string{{"QUERY_STRING", "$query_string"}, {"REQUEST_METHOD", "$request_method"}, {"CONTENT_TYPE", "$content_type"},
		{"CONTENT_LENGTH", "$content_length"}, {"REQUEST_URI", "$request_uri"}, {"PATH_INFO", "$document_uri"}, {"SERVER_PROTOCOL", "$server_protocol"},
		{"REQUEST_SCHEME", "$scheme"}, {"REMOTE_ADDR", "$remote_addr"}, {"REMOTE_PORT", "$remote_port"}, {"SERVER_PORT", "$server_port"},
		{"SERVER_NAME", "$server_name"}} {
		fmt.Fprintf(&b, " %s_param %s %s;", protocol, kv[0], kv[1])
	}
	return b.String()
}

// nginxServer is the generated app with 4 workers behind nginx over protocol.
func nginxServer(appBin, appDir string, appEnv []string, protocol string) *Server {
	keepalive := ""
	if protocol == "http" {
		keepalive = "keepalive 32;"
	}
	conf := fmt.Sprintf(`user root root; worker_processes 2; pid {pidfile}; error_log $d/error.log warn;
events { worker_connections 1024; }
http { access_log off;
  client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp; uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
  upstream app { server unix:$d/app.sock fail_timeout=0; %s }
  server { listen {addr}; location / { %s } }
}`, keepalive, nginxLocation(protocol))
	script := fmt.Sprintf(`set -e
d="{pidfile}.d"; mkdir -p "$d/tmp"
%s -c config -b "unix:$d/app.sock" -w 4 --protocol %s --bind-mode 0666 --log-level warning &
cat > "$d/nginx.conf" <<'NGINX'
%s
NGINX
exec nginx -p "$d" -c "$d/nginx.conf" -g "daemon off;"`, appBin, protocol, strings.ReplaceAll(conf, "$d", "{pidfile}.d"))
	return &Server{Name: "nginx -> generated app w=4 (" + protocol + ")", Family: "runtime", Workers: 4,
		Routes: map[string]string{"json": "/api/hello"}, Dir: appDir, Env: appEnv, Argv: []string{"sh", "-c", script}}
}

func nginxInstalled() bool {
	_, err := exec.LookPath("nginx")
	return err == nil
}
