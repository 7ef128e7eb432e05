package prefork

import "github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"

// canaryDefaults applies the canary thresholds' defaults (the supervisor's,
// one home); the window stays as set: 0 is off.
func (c *Config) canaryDefaults() {
	if c.CanaryMinRequests == 0 {
		c.CanaryMinRequests = supervisor.DefaultCanaryMinRequests
	}
	if c.CanaryMaxErrorIncrease == 0 {
		c.CanaryMaxErrorIncrease = supervisor.DefaultCanaryMaxErrorIncrease
	}
	if c.CanaryMaxLatencyRatio == 0 {
		c.CanaryMaxLatencyRatio = supervisor.DefaultCanaryMaxLatencyRatio
	}
	if c.CanaryLatencyFloor == 0 {
		c.CanaryLatencyFloor = supervisor.DefaultCanaryLatencyFloor
	}
}
