package templates

import "embed"

// Module is the tree of one module added by `scaffold add module`, rendered into web/NAME/.
//
//go:embed all:module
var Module embed.FS
