package prefork

import "flag"

// registerProductionFlags is the seam for the production features' flags
// (issue 4: access log, user/group, control socket, certificates...). It is
// called at the end of RegisterFlags; the production helper owns this file.
func (c *Config) registerProductionFlags(fs *flag.FlagSet) {}
