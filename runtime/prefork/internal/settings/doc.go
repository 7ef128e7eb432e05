// Package settings is the runtime's one settings schema: the table (table.go: each
// setting's Gunicorn name, flags, config.yaml key, platform variable, -h section and
// help, and the flag value that parses it with its one rule), the Gunicorn settings'
// defaults and checks (gunicorn.go), the one parser of each kind of value (listen
// addresses, peer lists, durations, sizes, octal modes, log levels, TLS ciphers,
// access log formats), the one flag value every setting's rule plugs into (value.go),
// -h's layout (help.go), --print-config's lines (print.go), typo suggestions
// (suggest.go), the settings as plain data (Values: what the master hands each
// worker it starts, over the worker's configuration pipe, and what a reload replaces
// whole) and the error every refused value wraps (ErrInvalid). It imports nothing of
// the runtime's tree, and no funcs live in Values: the program's hooks are
// prefork.Hooks. It parses a Gunicorn command line into Values (ParseArgs, cli.go;
// Parsed notes what was given) and applies the defaults of plain settings (Defaults,
// ApplyPlatformDefaults, Check); the defaults -h and --print-config show are
// prefork's, as they apply the defaults of a whole Config.
package settings
