package prefork

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// $PORT and $WEB_CONCURRENCY give the defaults of bind and workers, as in Gunicorn: a
// flag wins, and one note says so.
func TestPlatformVariablesOnlyGiveDefaults(t *testing.T) {
	t.Setenv("PORT", "5123")
	t.Setenv("WEB_CONCURRENCY", "7")
	env := map[string]string{"PORT": "5123", "WEB_CONCURRENCY": "7"}
	var c Config
	cl := CommandLine{Program: "app", Env: func(k string) string { return env[k] }}
	p, err := c.ParseArgs(cl, []string{"-b", "127.0.0.1:9001"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Bind) != 1 || d.Bind[0] != "127.0.0.1:9001" || d.Workers != 7 {
		t.Errorf("bind %v workers %d, want the flag's 127.0.0.1:9001 and $WEB_CONCURRENCY's 7", d.Bind, d.Workers)
	}
	notes := strings.Join(p.NoEffect(), "\n")
	if strings.Count(notes, "PORT=5123") != 1 || !strings.Contains(notes, "--bind") || strings.Contains(notes, "WEB_CONCURRENCY") {
		t.Errorf("notes %q: want one line saying --bind wins over PORT=5123, none on WEB_CONCURRENCY", notes)
	}

	t.Setenv("WEB_CONCURRENCY", "2000")
	if _, err := (Config{}).withDefaults(); err == nil || !strings.Contains(err.Error(), `WEB_CONCURRENCY="2000": must be at most 1024`) {
		t.Errorf("WEB_CONCURRENCY=2000: %v, want the workers rule", err)
	}
}

// -h shows the defaults of the configuration it parses over (config/ in a generated
// project), and names $PORT and $WEB_CONCURRENCY only while they are read.
func TestHelpShowsTheProgramsDefaults(t *testing.T) {
	t.Setenv("PORT", "")
	t.Setenv("WEB_CONCURRENCY", "")
	help := func(c Config) string {
		var out bytes.Buffer
		cl := CommandLine{Program: "app", Stdout: &out, Env: func(string) string { return "" }}
		if _, err := c.ParseArgs(cl, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("-h: %v", err)
		}
		return strings.Join(strings.Fields(out.String()), " ")
	}
	configured := help(Config{Values: Values{Bind: []string{"127.0.0.1:9001"}, Workers: 3, Timeout: 45 * time.Second, Backlog: 64}})
	for _, want := range []string{
		"repeat for several. [127.0.0.1:9001]",
		"worker processes for handling requests. [3]",
		"a stack dump first). 0 disables. [45]",
		"0 = the default. [64]",
	} {
		if !strings.Contains(configured, want) {
			t.Errorf("-h over a configuration lacks %q", want)
		}
	}
	for _, unread := range []string{"$PORT", "PORT is set", "WEB_CONCURRENCY"} {
		if strings.Contains(configured, unread) {
			t.Errorf("-h names %q, which is not read when bind and workers are set", unread)
		}
	}
	builtIn := help(Config{})
	for _, want := range []string{
		"When PORT is set, the default is 0.0.0.0:$PORT. [127.0.0.1:8000]",
		"When WEB_CONCURRENCY is set, the default is its value. [GOMAXPROCS]",
		"0 disables. [30]",
		"0 = the default. [2048]",
		"0 = unlimited, at most 8190. [4094]",
		"critical. [info]",
	} {
		if !strings.Contains(builtIn, want) {
			t.Errorf("-h over the built-in defaults lacks %q", want)
		}
	}
}
