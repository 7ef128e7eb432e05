package project

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"

	scaffold "github.com/scaffoldgo/scaffold"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// DBData is what the templates see of a project's database (Data.DB).
type DBData struct {
	Driver   string // sqlite or postgres
	SQLite   bool
	Postgres bool
}

// Requirements are a generated project's go.mod require blocks (Data.Requires) and what
// its go.sum holds beyond them.
type Requirements struct {
	Direct   []Requirement // go.mod's first require block
	Indirect []Requirement // its "// indirect" block

	database string   // the project's Database, for errors
	sumOnly  []string // go.sum keys of modules outside the build list, see projectModules
}

// Requirement is one go.mod require line.
type Requirement struct{ Path, Version string }

// moduleList is a set of modules `go mod tidy` puts in a generated project's go.mod
// (direct, indirect) and the go.sum keys ("path version/go.mod") of modules that are only
// in the module graph (their go.mod is read, nothing of them is built).
type moduleList struct{ direct, indirect, sumOnly []string }

// baseModules are every project's: the YAML parser of its config engine and the
// OpenTelemetry SDK of its traces (factory/tracing.go).
var baseModules = moduleList{
	direct: []string{
		"go.opentelemetry.io/otel",
		"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp",
		"go.opentelemetry.io/otel/sdk",
		"go.opentelemetry.io/otel/trace",
		"go.yaml.in/yaml/v3",
	},
	indirect: []string{
		"github.com/cenkalti/backoff/v5",
		"github.com/cespare/xxhash/v2",
		"github.com/go-logr/logr",
		"github.com/go-logr/stdr",
		"github.com/google/uuid",
		"github.com/grpc-ecosystem/grpc-gateway/v2",
		"go.opentelemetry.io/auto/sdk",
		"go.opentelemetry.io/otel/exporters/otlp/otlptrace",
		"go.opentelemetry.io/otel/log",
		"go.opentelemetry.io/otel/metric",
		"go.opentelemetry.io/proto/otlp",
		"golang.org/x/net",
		"golang.org/x/sys",
		"golang.org/x/text",
		"google.golang.org/genproto/googleapis/api",
		"google.golang.org/genproto/googleapis/rpc",
		"google.golang.org/grpc",
		"google.golang.org/protobuf",
	},
	sumOnly: []string{
		"github.com/go-logr/logr v1.2.2/go.mod",
		"github.com/golang/protobuf v1.5.4",
		"github.com/golang/protobuf v1.5.4/go.mod",
		"github.com/google/go-cmp v0.7.0",
		"github.com/google/go-cmp v0.7.0/go.mod",
		"github.com/stretchr/testify v1.12.1",
		"github.com/stretchr/testify v1.12.1/go.mod",
		"go.opentelemetry.io/otel/sdk/metric v1.47.0",
		"go.opentelemetry.io/otel/sdk/metric v1.47.0/go.mod",
		"go.uber.org/goleak v1.3.0",
		"go.uber.org/goleak v1.3.0/go.mod",
		"gonum.org/v1/gonum v0.17.0",
		"gonum.org/v1/gonum v0.17.0/go.mod",
	},
}

// dbModules lists, per database, the modules a project with it needs beyond baseModules
// (the two lists are merged). Versions
// of the require lines come from scaffold's own go.mod (deps.go keeps every one of them
// there), so a project pins what scaffold was built and tested with; TestDBGoModIsTidy
// checks the lists against `go mod tidy`.
var dbModules = map[string]moduleList{
	state.DatabaseSQLite: {
		direct: []string{
			"github.com/pressly/goose/v3",
			"go.yaml.in/yaml/v3",
			"modernc.org/sqlite",
		},
		indirect: []string{
			"github.com/dustin/go-humanize",
			"github.com/google/uuid",
			"github.com/mattn/go-isatty",
			"github.com/mfridman/interpolate",
			"github.com/ncruces/go-strftime",
			"github.com/remyoudompheng/bigfft",
			"github.com/sethvargo/go-retry",
			"go.uber.org/multierr",
			"golang.org/x/sync",
			"golang.org/x/sys",
			"modernc.org/libc",
			"modernc.org/mathutil",
			"modernc.org/memory",
		},
		sumOnly: []string{
			"github.com/google/pprof v0.0.0-20261016150608-1facf8f91b50",
			"github.com/google/pprof v0.0.0-20261016150608-1facf8f91b50/go.mod",
			"github.com/hashicorp/golang-lru/v2 v2.0.7",
			"github.com/hashicorp/golang-lru/v2 v2.0.7/go.mod",
			"github.com/stretchr/testify v1.12.1",
			"github.com/stretchr/testify v1.12.1/go.mod",
			"golang.org/x/mod v0.42.0",
			"golang.org/x/mod v0.42.0/go.mod",
			"golang.org/x/tools v0.52.0",
			"golang.org/x/tools v0.52.0/go.mod",
			"modernc.org/cc/v4 v4.30.6-0.20261101114202-1b9d1a076f6b",
			"modernc.org/cc/v4 v4.30.6-0.20261101114202-1b9d1a076f6b/go.mod",
			"modernc.org/ccgo/v4 v4.38.1",
			"modernc.org/ccgo/v4 v4.38.1/go.mod",
			"modernc.org/fileutil v1.4.0",
			"modernc.org/fileutil v1.4.0/go.mod",
			"modernc.org/gc/v2 v2.6.5",
			"modernc.org/gc/v2 v2.6.5/go.mod",
			"modernc.org/gc/v3 v3.2.0",
			"modernc.org/gc/v3 v3.2.0/go.mod",
			"modernc.org/goabi0 v0.2.0",
			"modernc.org/goabi0 v0.2.0/go.mod",
			"modernc.org/opt v0.2.0",
			"modernc.org/opt v0.2.0/go.mod",
			"modernc.org/sortutil v1.2.1",
			"modernc.org/sortutil v1.2.1/go.mod",
			"modernc.org/strutil v1.2.1",
			"modernc.org/strutil v1.2.1/go.mod",
			"modernc.org/token v1.1.0",
			"modernc.org/token v1.1.0/go.mod",
		},
	},
	state.DatabasePostgres: {
		direct: []string{
			"github.com/jackc/pgx/v5",
			"github.com/pressly/goose/v3",
			"go.yaml.in/yaml/v3",
		},
		indirect: []string{
			"github.com/jackc/pgpassfile",
			"github.com/jackc/pgservicefile",
			"github.com/jackc/puddle/v2",
			"github.com/mfridman/interpolate",
			"github.com/sethvargo/go-retry",
			"go.uber.org/multierr",
			"golang.org/x/sync",
			"golang.org/x/text",
		},
		sumOnly: []string{
			"github.com/davecgh/go-spew v1.1.0/go.mod",
			"github.com/dustin/go-humanize v1.1.0",
			"github.com/dustin/go-humanize v1.1.0/go.mod",
			"github.com/google/uuid v1.6.0",
			"github.com/google/uuid v1.6.0/go.mod",
			"github.com/mattn/go-isatty v0.0.24",
			"github.com/mattn/go-isatty v0.0.24/go.mod",
			"github.com/ncruces/go-strftime v1.1.0",
			"github.com/ncruces/go-strftime v1.1.0/go.mod",
			"github.com/pmezard/go-difflib v1.0.0/go.mod",
			"github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec",
			"github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec/go.mod",
			"github.com/stretchr/objx v0.1.0/go.mod",
			"github.com/stretchr/testify v1.3.0/go.mod",
			"github.com/stretchr/testify v1.7.0/go.mod",
			"github.com/stretchr/testify v1.12.1",
			"github.com/stretchr/testify v1.12.1/go.mod",
			"golang.org/x/sys v0.50.0",
			"golang.org/x/sys v0.50.0/go.mod",
			"gopkg.in/check.v1 v0.0.0-20161208181325-20d25e280405/go.mod",
			"gopkg.in/yaml.v3 v3.0.0-20200313102051-9f266ea9e77c/go.mod",
			"modernc.org/libc v1.80.2",
			"modernc.org/libc v1.80.2/go.mod",
			"modernc.org/mathutil v1.7.1",
			"modernc.org/mathutil v1.7.1/go.mod",
			"modernc.org/memory v1.12.1",
			"modernc.org/memory v1.12.1/go.mod",
			"modernc.org/sqlite v1.62.0",
			"modernc.org/sqlite v1.62.0/go.mod",
		},
	},
}

// projectRequirements resolves the modules of a project with database (none, sqlite,
// postgres) to the versions of scaffold's go.mod (deps).
func projectRequirements(database string, deps map[string]string) (*Requirements, error) {
	mods := baseModules
	if database != state.DatabaseNone {
		db, ok := dbModules[database]
		if !ok {
			return nil, fmt.Errorf("no module list for database %q", database)
		}
		mods = moduleList{
			direct:   union(mods.direct, db.direct),
			indirect: union(mods.indirect, db.indirect),
			sumOnly:  union(mods.sumOnly, db.sumOnly),
		}
	}
	r := &Requirements{database: database, sumOnly: mods.sumOnly}
	resolve := func(paths []string) ([]Requirement, error) {
		var out []Requirement
		for _, p := range paths {
			v, ok := deps[p]
			if !ok {
				return nil, fmt.Errorf("scaffold's embedded go.mod lacks %s, which projects with database %s need (deps.go keeps it)", p, database)
			}
			out = append(out, Requirement{Path: p, Version: v})
		}
		return out, nil
	}
	var err error
	if r.Direct, err = resolve(mods.direct); err != nil {
		return nil, err
	}
	if r.Indirect, err = resolve(mods.indirect); err != nil {
		return nil, err
	}
	return r, nil
}

// union is a and b sorted, each path once.
func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// goSum is the go.sum of the project: scaffold's own go.sum lines for every required
// module (both lines) and for the graph-only go.mod files.
func (r *Requirements) goSum() ([]byte, error) {
	want := map[string]bool{}
	for _, req := range slices.Concat(r.Direct, r.Indirect) {
		want[req.Path+" "+req.Version] = true
		want[req.Path+" "+req.Version+"/go.mod"] = true
	}
	for _, k := range r.sumOnly {
		want[k] = true
	}
	var out bytes.Buffer
	found := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(scaffold.GoSum))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && want[f[0]+" "+f[1]] {
			out.WriteString(sc.Text() + "\n")
			found[f[0]+" "+f[1]] = true
		}
	}
	for k := range want {
		if !found[k] {
			return nil, fmt.Errorf("scaffold's embedded go.sum lacks %s, which projects with database %s need", k, r.database)
		}
	}
	return out.Bytes(), nil
}
