// Package templates embeds the trees scaffold renders: project/ for `scaffold new`.
// Files ending in .tmpl go through text/template with sprig's functions (missingkey=error)
// and lose the suffix; other files are copied as they are. Go sources are all .go.tmpl so
// the Go tool never mistakes them for packages of this module.
package templates

import "embed"

// Project is the tree of a generated project.
//
//go:embed all:project
var Project embed.FS

// ProjectDB is added to Project's files when a project has a database (`scaffold new --db`):
// the pool factory, the migrations and their command, and the notes module.
//
//go:embed all:projectdb
var ProjectDB embed.FS
