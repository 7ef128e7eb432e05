package templates

import "embed"

// Deploy holds the templates of `scaffold deploy-config`: one per generated file (nginx
// site, supervisor program, systemd units, logrotate, tmpfiles, the Containerfile and its
// files, the kustomize base and overlay, and the README).
//
//go:embed all:deploy
var Deploy embed.FS
