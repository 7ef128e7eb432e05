package prefork

import "errors"

// errInvalid is wrapped by every error that refuses a setting's value.
var errInvalid = errors.New("invalid configuration")
