//go:build !race

package prefork

const raceOn = false
