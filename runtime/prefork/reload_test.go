package prefork

import (
	"fmt"
	"os"
	"reflect"
	"syscall"
	"testing"
	"time"
)

func TestReloadKeepsTheProgramsFuncs(t *testing.T) {
	called, newExit := false, false
	old := Config{Values: Values{Workers: 2}, Hooks: Hooks{OnExit: func() { called = true }, LongLived: DefaultLongLived, OnReload: func() {}}}
	nc := Config{Values: Values{Workers: 3}, Hooks: Hooks{WhenReady: func() { newExit = true }}}
	nc.Hooks = nc.Hooks.keeping(old.Hooks)
	if nc.Workers != 3 || nc.OnExit == nil || nc.LongLived == nil || nc.OnReload == nil {
		t.Fatalf("after keeping: workers %d, OnExit set %v, LongLived set %v, OnReload set %v", nc.Workers, nc.OnExit != nil, nc.LongLived != nil, nc.OnReload != nil)
	}
	nc.OnExit()
	if !called {
		t.Error("OnExit is not the old hook")
	}
	nc.WhenReady()
	if !newExit {
		t.Error("WhenReady set by the reload was replaced by the old (unset) one")
	}
}

func TestWorkerTakesTheMastersSettingsKeepsItsFuncs(t *testing.T) {
	masterCfg, _ := Config{Values: Values{Bind: []string{"127.0.0.1:9"}, Workers: 4, Timeout: 7 * time.Second, MaxRequests: 10}}.withDefaults()
	handTo(t, masterCfg)
	hook := false
	own := Config{Values: Values{Workers: 1, Timeout: time.Second}, Hooks: Hooks{PostFork: func(WorkerInfo) { hook = true }}}
	t.Setenv(envWorkerID, "5")
	t.Setenv(envGeneration, "2")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// the worker wraps its own copies, as a child's are its own
	wfd, err := syscall.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	rfd, err := syscall.Dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envStatusFD, fmt.Sprint(wfd))
	t.Setenv(envControlFD, fmt.Sprint(rfd))
	t.Setenv(envMaxRequests, "12")
	we, err := readWorkerEnv(&own)
	if err != nil {
		t.Fatal(err)
	}
	defer we.status.Close()
	defer we.control.Close()
	if own.Timeout != 7*time.Second || own.Workers != 4 || own.MaxRequests != 10 || own.Bind[0] != "127.0.0.1:9" {
		t.Errorf("worker config %+v lacks the master's settings", own)
	}
	if own.PostFork == nil {
		t.Fatal("the worker's own hook was dropped")
	}
	own.PostFork(we.info)
	if !hook || we.info.ID != 5 || we.info.Generation != 2 || we.maxRequests != 12 {
		t.Errorf("worker env: %+v max %d", we.info, we.maxRequests)
	}
	if os.Getenv(envConfigFD) != "" || os.Getenv(envWorkerID) != "" {
		t.Error("worker variables left for the worker's children")
	}
}

// keeping names every hook: one added to Hooks without a line there would be
// dropped by the first reload whose Config leaves it unset.
func TestKeepingCoversEveryHook(t *testing.T) {
	var old Hooks
	v := reflect.ValueOf(&old).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Func:
			f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value { return nil }))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		default:
			t.Fatalf("Hooks.%s: a %s; teach this test to set it", v.Type().Field(i).Name, f.Kind())
		}
	}
	kept := reflect.ValueOf(Hooks{}.keeping(old))
	for i := range kept.NumField() {
		if kept.Field(i).IsZero() {
			t.Errorf("Hooks.%s is not kept across a reload that leaves it unset", kept.Type().Field(i).Name)
		}
	}
}
