// Command scaffold generates Go web services in the Flask + Gunicorn production layout,
// with a prefork runtime, deployment files and packaged releases.
package main

import (
	"os"

	"github.com/scaffoldgo/scaffold/internal/cli"
)

func main() { os.Exit(cli.Main()) }
