package appconfig

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The environment policy: a variable that names a section but none of its keys is a
// typo and refused; one that names no section is the platform's (Kubernetes' service
// links for a Service named app, a PaaS's APP_VERSION) and only warned about.
func TestEnvironmentPolicy(t *testing.T) {
	const sections = "names no section of config (app, server, logging, database), so it sets nothing"
	for _, tc := range []struct {
		env      []string
		partial  bool
		wantErr  string
		warnings []string
	}{
		{env: []string{"APP_SERVER_WROKERS=3"}, wantErr: `APP_SERVER_WROKERS: no such setting (did you mean "APP_SERVER_WORKERS"?)`},
		// A Service named app-server injects these: they name the server section.
		{env: []string{"APP_SERVER_PORT=tcp://10.96.0.7:8000"}, wantErr: "APP_SERVER_PORT: no such setting"},
		{env: []string{"APP_SERVER=x"}, wantErr: "APP_SERVER: no such setting"},
		{env: []string{"APP_LOGGING_ACCESS_LOG_ENABLD=true"}, wantErr: `(did you mean "APP_LOGGING_ACCESS_LOG_ENABLED"?)`},
		{env: []string{"APP_DATABASE_PASSWORD=x"}, wantErr: "APP_DATABASE_PASSWORD: no such setting"},
		{env: []string{"APP_FOO=1"}, warnings: []string{"APP_FOO: no effect: " + sections}},
		// A Service named app, a PaaS, a CI: warned about, each once, in name order.
		{env: []string{"APP_VERSION=1.2.3", "APP_PORT=tcp://10.96.0.7:8000", "APP_SERVICE_HOST=10.96.0.7", "APP_URL=https://x.example", "APP_PORT_8000_TCP_ADDR=10.96.0.7", "APP_SERVER_WORKERS=3"},
			warnings: []string{
				"APP_PORT: no effect: " + sections,
				"APP_PORT_8000_TCP_ADDR: no effect: " + sections,
				"APP_SERVICE_HOST: no effect: " + sections,
				"APP_URL: no effect: " + sections,
				"APP_VERSION: no effect: " + sections,
			}},
		// A misspelt section is not refused, but the warning names the closest key.
		{env: []string{"APP_SERVR_WORKERS=3"}, warnings: []string{`APP_SERVR_WORKERS: no effect: ` + sections + ` (did you mean "APP_SERVER_WORKERS"?)`}},
		// A partial reader (deploy-config) leaves them to the app, which warns.
		{env: []string{"APP_FOO=1"}, partial: true},
		{env: []string{"APP_SERVER_WROKERS=3"}, partial: true, wantErr: "APP_SERVER_WROKERS: no such setting"},
	} {
		cfg, o, err := load(t, Source{Env: tc.env, Partial: tc.partial}, nil)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %s", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if got := o.Warnings(); !reflect.DeepEqual(got, tc.warnings) {
			t.Errorf("%v: warnings\n%q\nwant\n%q", tc.env, got, tc.warnings)
		}
		want := 1 // setting.yaml's development value
		if slices.Contains(tc.env, "APP_SERVER_WORKERS=3") {
			want = 3
		}
		if cfg.Server.Workers != want {
			t.Errorf("%v: workers %d, want %d: a warned variable must not stop the others", tc.env, cfg.Server.Workers, want)
		}
	}
}
