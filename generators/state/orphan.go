package state

// ClassifyOrphan is the one rule for a file scaffold wrote that it no longer generates (an
// orphan: recorded, its FileChecksum, and disk its content now), for every command
// (update, vendor): unedited, it is scaffold's and goes in the same commit (Delete), so
// no stale file of an older scaffold stays in the build; edited, it is the user's now
// and stays, reported (Orphan), unless the policy overwrites edits (vendor --force).
// Either way the record forgets it.
func ClassifyOrphan(recorded string, disk []byte, policy EditPolicy) Change {
	if policy == OverwriteEdited || (recorded != "" && FileChecksum(disk) == recorded) {
		return Delete
	}
	return Orphan
}
