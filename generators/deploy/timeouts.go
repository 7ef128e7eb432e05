package deploy

import "time"

// The cross-layer timeout rules, in one place: each limit is derived here for the files
// deploy-config writes (resolve, resolveKube), and checked here on the files as a user may
// have edited them (Verify). A derived value always passes its own check.

// Rules as a failed check quotes them.
const (
	RuleProxyRead    = "nginx waits longer than the app: its read timeout must be above the app's server.timeout, so the app answers a slow request itself"
	RuleUpstreamIdle = "the app's keep-alive outlasts nginx's: the upstream keepalive_timeout must be below the app's server.keep_alive, so nginx never reuses a connection the app is closing"
	RuleStopWait     = "the service manager waits longer than the drain: its stop timeout must be above the app's server.graceful_timeout"
	RuleGrace        = "the grace period covers preStop + graceful timeout: terminationGracePeriodSeconds must be at least preStop + server.graceful_timeout + 10"
)

// Margins between the app's limits and the ones of the tools around it.
const (
	proxyReadMargin = 10 * time.Second   // nginx waits this much longer than the app's timeout
	stopMargin      = 10 * time.Second   // supervisor/systemd wait this much longer than graceful_timeout
	noTimeoutRead   = 3600 * time.Second // proxy_read_timeout when the app's timeout is off
	graceMargin     = 10                 // seconds between the drain limit and the kubelet's KILL
)

// proxyRead is nginx's read timeout for an app whose timeout is appTimeout (0: off).
func proxyRead(appTimeout time.Duration) time.Duration {
	if appTimeout > 0 {
		return appTimeout + proxyReadMargin
	}
	return noTimeoutRead
}

// proxyReadOK is RuleProxyRead; an app with no timeout of its own sets no bound.
func proxyReadOK(read, appTimeout time.Duration) bool { return appTimeout <= 0 || read > appTimeout }

// upstreamIdle is how long nginx keeps an idle connection to the app: a second less than
// the app's keep_alive (half of it when that is 2s or less), so nginx closes first.
func upstreamIdle(keepAlive time.Duration) time.Duration {
	return keepAlive - min(time.Second, keepAlive/2)
}

// upstreamIdleOK is RuleUpstreamIdle; an app that keeps no connection open sets no bound.
func upstreamIdleOK(idle, keepAlive time.Duration) bool { return keepAlive <= 0 || idle < keepAlive }

// stopWait is supervisor's stopwaitsecs and systemd's TimeoutStopSec for a drain of grace.
func stopWait(grace time.Duration) time.Duration { return max(grace, 0) + stopMargin }

// stopWaitOK is RuleStopWait.
func stopWaitOK(wait, grace time.Duration) bool { return wait > grace }

// terminationGrace is a pod's terminationGracePeriodSeconds: the preStop wait, then the
// drain, then a margin before the kubelet's KILL (all in seconds).
func terminationGrace(preStop, graceful int) int { return preStop + graceful + graceMargin }

// graceOK is RuleGrace.
func graceOK(grace, preStop, graceful int) bool { return grace >= terminationGrace(preStop, graceful) }
