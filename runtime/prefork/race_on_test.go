//go:build race

package prefork

const raceOn = true
