package prefork

import (
	"fmt"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// reloadRefused is the error for a reload the master did not carry out (st:
// its answer). During a binary upgrade (USR2) the old master reloads
// nothing (the new one loads the configuration as it starts), and the new
// one, whose control socket replaces the old one's, reloads nothing while
// its canary decides whether it takes over: reloading its judged workers
// would muddle the decision. A stopping master starts nothing. nil: the
// reload was taken.
func reloadRefused(st Status) error {
	if st.Canary != nil && st.Canary.Upgrade {
		return fmt.Errorf("reload: refused, nothing reloaded: this master (pid %d) is a binary upgrade's (USR2) new one, and its canary is deciding whether it takes over; see status, then reload again once it has", st.PID)
	}
	switch st.Phase {
	case supervisor.MasterUpgrading.String():
		return fmt.Errorf("reload: refused, nothing reloaded: a binary upgrade (USR2) is under way (master pid %d); its new master loads the configuration as it starts and takes over only if its canary is promoted: see status, then reload again if the old master still serves", st.PID)
	case supervisor.MasterDelaying.String(), supervisor.MasterStopping.String(), supervisor.MasterHandedOver.String(), supervisor.MasterQuitting.String():
		return fmt.Errorf("reload: refused, nothing reloaded: the master (pid %d) is %s", st.PID, st.Phase)
	}
	return nil
}
