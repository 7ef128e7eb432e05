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
// production-defaults rows, as they would in production, and it writes them to /dev/null.
const collectorTool = "otelcol-scaffold"

// startCollector runs the Collector with an OTLP/HTTP receiver on a loopback port and
// returns its endpoint and how to stop it; "" when the tool is not installed.
func startCollector(ctx context.Context, tmp string) (endpoint string, stop func(), err error) {
	bin, err := exec.LookPath(collectorTool)
	if err != nil {
		if gopath, e := exec.Command("go", "env", "GOPATH").Output(); e == nil {
			bin = filepath.Join(string(trimNL(gopath)), "bin", collectorTool)
		}
		if _, e := os.Stat(bin); e != nil {
			return "", func() {}, nil
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	config := testenv.CollectorConfig(addr, os.DevNull, os.DevNull)
	path := filepath.Join(tmp, "otelcol.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		return "", nil, err
	}
	logf, err := os.Create(filepath.Join(tmp, "otelcol.log"))
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "--config", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "http://" + addr, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("%s did not listen on %s within 30s (log: %s)", collectorTool, addr, logf.Name())
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
