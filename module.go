// Package scaffold exposes the module's own go.mod and go.sum, so generated projects pin
// exactly the dependency versions this scaffold binary was built with, without the network.
package scaffold

import _ "embed"

//go:embed go.mod
var GoMod []byte

//go:embed go.sum
var GoSum []byte
