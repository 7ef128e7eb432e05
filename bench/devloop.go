package main

import "context"

// measureDevLoop compares `scaffold run --dev` with air (bench/devloop).
func measureDevLoop(ctx context.Context, o *Options, res *Results, _ *serverSet) error {
	res.note("dev loop: bench/devloop is not wired in yet; no figures in this run.")
	return nil
}
