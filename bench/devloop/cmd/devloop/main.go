// Command devloop prints the dev-loop figures of bench/devloop as a Markdown table.
//
//	go run ./bench/devloop/cmd/devloop -edits 5
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/scaffoldgo/scaffold/bench/devloop"
)

func main() {
	var o devloop.Options
	flag.IntVar(&o.Edits, "edits", 5, "edits measured per tool")
	flag.StringVar(&o.AirPath, "air", "", "air binary (default: air on $PATH, else ~/go/bin/air)")
	flag.BoolVar(&o.SkipAir, "skip-air", false, "do not measure air")
	flag.Parse()
	o.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := devloop.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devloop:", err)
		os.Exit(1)
	}
	fmt.Print(res.Markdown())
}
