package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// collectorTool is the OpenTelemetry Collector .ci/build-otelcol builds (internal/testenv
// starts the same one in tests): the generated app's spans and metrics go to it in the
// production-defaults rows, as they would in production.
const collectorTool = "otelcol-scaffold"

// collectorConfig receives OTLP over HTTP on addr and hands every batch to the debug
// exporter, which counts its spans and data points in one log line and drops them. The
// Collector still decodes all the app sends, as any pipeline does; what it does next
// (the tests' file exporter writes JSON, a gateway re-encodes for a backend) is the
// Collector's own work, usually on CPU of its own (an agent's, a sidecar's limits), and
// here it would take CPU from the servers measured. Its CPU per request is reported
// beside theirs instead (ThroughputRow.CollectorCPUPerReq).
func collectorConfig(addr string) string {
	return testenv.CollectorConfig(addr, "  debug:\n    verbosity: basic\n", "debug", "debug")
}

// Collector is the running Collector of the production rows.
type Collector struct {
	Endpoint string
	pid      int
	stop     func()
}

// CPUTime is the Collector's user and system time so far.
func (c *Collector) CPUTime() time.Duration {
	return time.Duration(cpuTicks(c.pid)) * time.Second / clockTicks
}

// startCollector runs the Collector with an OTLP/HTTP receiver on a loopback port; nil
// when the tool is not installed.
func startCollector(ctx context.Context, tmp string) (*Collector, error) {
	bin, err := exec.LookPath(collectorTool)
	if err != nil {
		if gopath, e := exec.Command("go", "env", "GOPATH").Output(); e == nil {
			bin = filepath.Join(string(trimNL(gopath)), "bin", collectorTool)
		}
		if _, e := os.Stat(bin); e != nil {
			return nil, nil
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(tmp, "otelcol.yaml")
	if err := os.WriteFile(path, []byte(collectorConfig(addr)), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(tmp, "otelcol.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "--config", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return &Collector{Endpoint: "http://" + addr, pid: cmd.Process.Pid, stop: stop}, nil
		}
	}
	stop()
	return nil, fmt.Errorf("%s did not listen on %s within 30s (log: %s)", collectorTool, addr, logf.Name())
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
