package settings

import "errors"

// ErrInvalid is wrapped by every error that refuses a setting's value.
var ErrInvalid = errors.New("invalid configuration")
