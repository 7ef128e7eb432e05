package appconfig

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// level is a type of the user's own, decoded by its own UnmarshalYAML.
type level int

func (l *level) UnmarshalYAML(n *yaml.Node) error {
	switch n.Value {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("must be low or high, got %q", n.Value)
	}
	return nil
}

type limit struct {
	Path string        `yaml:"path"`
	RPS  int           `yaml:"rps"`
	Wait time.Duration `yaml:"wait"`
}

// shopConfig is a generated project's configuration with a section of the user's own
// (the engine's Server section travels in the generated project's own test).
type shopConfig struct {
	Mode    string  `yaml:"-"`
	Logging Logging `yaml:"logging"`
	DB      struct {
		DSN string `yaml:"dsn" secret:"true"`
	} `yaml:"database"`
	Shop struct {
		Ratio   float64          `yaml:"ratio"`
		Max     uint16           `yaml:"max"`
		Grace   time.Duration    `yaml:"grace"`
		Upload  Size             `yaml:"upload"`
		Prices  map[string]int   `yaml:"prices"`
		Limits  []limit          `yaml:"limits"`
		Levels  []level          `yaml:"levels"`
		Default *limit           `yaml:"default"`
		Empty   []int            `yaml:"empty"`
		Nested  map[string][]int `yaml:"nested"`
	} `yaml:"shop"`
	Origins *Origins `yaml:"-"`
}

const shopYAML = `database:
  dsn: postgres://shop:s3cret@db/shop
shop:
  ratio: 0.25
  max: 300
  grace: 1m30s
  upload: 2MiB
  prices: {tea: 3, cake: 4}
  limits:
    - {path: /api, rps: 50, wait: 2s}
  levels: [low, high]
  default: {path: /, rps: 10}
  empty: []
  nested: {a: [1, 2]}
`

// A worker's configuration deep-equals its master's: what Load read, the user's own
// types, the secrets and where each value was set.
func TestHandOverRoundTrip(t *testing.T) {
	master := shopConfig{Logging: DefaultLogging()}
	o, err := Load(Source{Dir: "config", FS: files(map[string]string{ConfigFile: shopYAML, SettingFile: ""}), Mode: ModeProduction, Env: []string{"APP_SHOP_RATIO=0.5"}}, &master)
	if err != nil {
		t.Fatal(err)
	}
	master.Origins, master.Mode = o, o.Mode()
	if master.Shop.Levels[1] != 2 || master.Shop.Grace != 90*time.Second || master.Shop.Upload != 2<<20 {
		t.Fatalf("loaded %+v", master.Shop)
	}
	data, err := Encode(&master)
	if err != nil {
		t.Fatal(err)
	}
	var worker shopConfig
	if err := Decode(data, &worker); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(master, worker) {
		t.Errorf("worker's configuration differs from the master's:\n%+v\n%+v", worker, master)
	}
	if worker.Origins.Of("shop.ratio") != "env APP_SHOP_RATIO" || worker.Origins.Of("shop.prices") != "config/config.yaml:8" || worker.DB.DSN != "postgres://shop:s3cret@db/shop" {
		t.Errorf("worker lost origins or secrets: ratio from %s, prices from %s, dsn %q", worker.Origins.Of("shop.ratio"), worker.Origins.Of("shop.prices"), worker.DB.DSN)
	}
}

// pattern keeps its state in an unexported field: JSON would hand workers nothing.
type pattern struct{ re *regexp.Regexp }

func (p *pattern) UnmarshalYAML(n *yaml.Node) (err error) {
	p.re, err = regexp.Compile(n.Value)
	return err
}

func TestHandOverRefusesWhatWouldNotArriveWhole(t *testing.T) {
	var cfg struct {
		Logging Logging `yaml:"logging"`
		Shop    struct {
			Name  string   `yaml:"name"`
			Allow *pattern `yaml:"allow"`
		} `yaml:"shop"`
	}
	if _, err := Load(Source{Dir: "config", FS: files(map[string]string{ConfigFile: "shop:\n  name: x\n  allow: ^/api/\n", SettingFile: ""}), Mode: ModeProduction}, &cfg); err != nil {
		t.Fatal(err)
	}
	_, err := Encode(&cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "shop.allow: its value would not reach the workers whole") || !strings.Contains(err.Error(), "MarshalJSON") {
		t.Errorf("Encode = %v, want shop.allow refused with the rule", err)
	}
}

// A worker built from other sources than its master (a new binary on disk started by an
// old master's HUP) refuses the master's configuration instead of decoding part of it.
func TestHandOverRefusesAnotherBuildsConfiguration(t *testing.T) {
	old := struct {
		App app `yaml:"app"`
	}{App: app{Name: "demo"}}
	data, err := Encode(&old)
	if err != nil {
		t.Fatal(err)
	}
	var next struct {
		App app  `yaml:"app"`
		New bool `yaml:"new"`
	}
	if err := Decode(data, &next); err == nil || !strings.Contains(err.Error(), "of another build") || !strings.Contains(err.Error(), "USR2 or a restart") {
		t.Errorf("Decode = %v, want another build refused", err)
	}
}
