package supervisor

import (
	"errors"
	"fmt"
	"slices"
)

// checkInvariants is the supervisor's specification as properties of its
// published views: cur must hold on its own, and the step from prev to cur
// must be one the policy allows. The sim (every table test) and the fuzz test
// run it after every step.
func checkInvariants(prev, cur View) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	ids := map[int]bool{}
	booting := map[int]bool{} // generations with a booting worker
	ready, retiring := 0, false
	canaryGen, canaryWorkers := cur.Canary.Generation, 0
	for _, w := range cur.Workers {
		inCanary := canaryGen != 0 && w.Generation == canaryGen
		if ids[w.ID] {
			bad("worker %d listed twice", w.ID)
		}
		ids[w.ID] = true
		if w.Generation < 1 || w.Generation > cur.Newest {
			bad("worker %d is of generation %d, the newest is %d", w.ID, w.Generation, cur.Newest)
		}
		if w.Generation > cur.Generation && !inCanary && !w.Told {
			bad("worker %d of generation %d (current %d) serves on, but no canary runs for it", w.ID, w.Generation, cur.Generation)
		}
		if inCanary && !w.Told {
			canaryWorkers++
		}
		switch w.Phase {
		case PhaseBooting:
			if !inCanary {
				booting[w.Generation] = true
			}
		case PhaseRetiring:
			retiring = true
			if w.Reason == "" || w.Kind == "" {
				bad("worker %d retires without a reason", w.ID)
			}
		case phaseDraining, phaseDumping, phaseAborting:
			if w.Deadline.IsZero() {
				bad("worker %d is %s without a deadline", w.ID, w.Phase)
			}
		}
		if w.Phase.Serving() && !inCanary {
			ready++
		}
		if inCanary && w.Phase == PhaseRetiring {
			bad("canary worker %d retires", w.ID)
		}
		if w.Told != w.Phase.told() {
			bad("worker %d: told %v in phase %s", w.ID, w.Told, w.Phase)
		}
		if cur.Phase.stopped() && !w.Phase.told() {
			bad("master %s but worker %d is %s", cur.Phase, w.ID, w.Phase)
		}
		if _, old := prev.Worker(w.ID); !old && (cur.Phase.stopped() || w.Generation != cur.Generation && !inCanary) {
			bad("worker %d (generation %d) started while the master is %s at generation %d", w.ID, w.Generation, cur.Phase, cur.Generation)
		}
	}
	if cur.Canary.Upgrade && cur.Phase != MasterStarting {
		bad("an upgrade's canary in phase %s", cur.Phase)
	}
	if (cur.Phase == MasterCanary) != (canaryGen != 0) || canaryGen != 0 && (canaryGen <= cur.Generation || canaryGen > cur.Newest) {
		bad("phase %s with canary generation %d (current %d, newest %d)", cur.Phase, canaryGen, cur.Generation, cur.Newest)
	}
	if canaryWorkers > cur.Canary.Size {
		bad("%d canary workers for a share of %d", canaryWorkers, cur.Canary.Size)
	}
	if cur.Generation > cur.Newest {
		bad("generation %d is newer than the newest, %d", cur.Generation, cur.Newest)
	}
	if err := checkCanaryDecision(prev, cur); err != nil {
		errs = append(errs, err)
	}
	if len(booting) > 1 {
		bad("generations %v boot at once", keys(booting))
	}
	if ready != cur.Ready {
		bad("view counts %d ready, the workers %d", cur.Ready, ready)
	}
	if retiring && !cur.Phase.stopped() && cur.Ready > cur.Target {
		bad("%d serve for a target of %d, yet a worker still retires", cur.Ready, cur.Target)
	}
	if cur.Target < 1 {
		bad("target %d", cur.Target)
	}
	if cur.Started != (cur.Phase != MasterStarting) {
		bad("started %v in phase %s", cur.Started, cur.Phase)
	}
	if cur.Stopping != cur.Phase.leaving() || cur.Serving && (cur.Stopping || cur.Ready < cur.Target) {
		bad("phase %s: stopping %v, serving %v with %d/%d ready", cur.Phase, cur.Stopping, cur.Serving, cur.Ready, cur.Target)
	}
	if cur.Done && (len(cur.Workers) > 0 || !cur.Phase.stopped()) {
		bad("done in phase %s with %d workers", cur.Phase, len(cur.Workers))
	}
	if cur.Phase == MasterReloading && !slices.ContainsFunc(cur.Workers, func(w WorkerView) bool { return w.Generation < cur.Generation }) {
		bad("reloading generation %d, but no older worker is left", cur.Generation)
	}
	if cur.Generation < prev.Generation || prev.Phase.stopped() && !cur.Phase.stopped() {
		bad("went back: generation %d to %d, phase %s to %s", prev.Generation, cur.Generation, prev.Phase, cur.Phase)
	}
	// A serving worker leaves the count below target only by its own end
	// (exit, kill, a signal of its own); the master drains one only once
	// the others serving number at least target.
	if !cur.Phase.stopped() && cur.Ready < cur.Target && cur.Target <= prev.Target {
		for _, p := range prev.Workers {
			w, ok := cur.Worker(p.ID)
			inCanary := p.Generation == prev.Canary.Generation // a canary's workers are not counted
			if p.Phase.Serving() && ok && w.Phase == phaseDraining && !w.OnItsOwn && !inCanary {
				bad("worker %d drained (%s) leaving %d serving for a target of %d", w.ID, w.Reason, cur.Ready, cur.Target)
			}
		}
	}
	return errors.Join(errs...)
}

// checkCanaryDecision: a canary that ended was decided, in the view; a
// promoted one is the current generation, a rolled-back one's workers are
// all told and the generation before it serves on, none of its workers
// told by the rollback.
func checkCanaryDecision(prev, cur View) error {
	gen := prev.Canary.Generation
	if gen == 0 || cur.Canary.Generation == gen {
		return nil
	}
	last := cur.LastCanary
	if last == nil || last.Generation != gen {
		return fmt.Errorf("canary generation %d ended without a decision (last: %+v)", gen, last)
	}
	switch last.Decision {
	case CanaryPromote:
		if cur.Generation != gen {
			return fmt.Errorf("canary %d promoted but the current generation is %d", gen, cur.Generation)
		}
	case CanaryRollback:
		if cur.Generation != prev.Generation && cur.Generation < gen { // a newer reload may follow in the same step
			return fmt.Errorf("canary %d rolled back but the generation went from %d to %d", gen, prev.Generation, cur.Generation)
		}
		for _, w := range cur.Workers {
			if w.Generation == gen && !w.Told {
				return fmt.Errorf("canary %d rolled back (%s) but its worker %d is %s", gen, last.Reason, w.ID, w.Phase)
			}
			if p, ok := prev.Worker(w.ID); ok && w.Generation != gen && !p.Told && w.Told && w.Kind == string(ExitCanaryRollback) {
				return fmt.Errorf("canary %d rolled back and told worker %d of generation %d to go", gen, w.ID, w.Generation)
			}
		}
	default:
		return fmt.Errorf("canary %d decided %q", gen, last.Decision)
	}
	return nil
}

func keys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkActions is the part of the specification about one step's actions:
// READY=1 (or the take-over, for a master started by USR2) only once the
// start-up is announced, the take-over at most once, and no command to a
// worker the master does not hold.
func checkActions(prev, cur View, out []Action, takeOver bool, tookOver *bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, a := range out {
		switch a := a.(type) {
		case Notify:
			if a.What == NotifyReady && (cur.Phase == MasterStarting || takeOver && !*tookOver) {
				bad("READY=1 (after %s) before the start-up was announced", a.After)
			}
		case TakeOver:
			if !takeOver || *tookOver {
				bad("take-over again, or by a master not started by USR2")
			}
			*tookOver = true
		case Send:
			if _, ok := prev.Worker(a.Worker.ID); !ok {
				if _, ok := cur.Worker(a.Worker.ID); !ok {
					bad("command %s to worker %d, which the master does not hold", a.Command, a.Worker.ID)
				}
			}
		}
	}
	return errors.Join(errs...)
}
