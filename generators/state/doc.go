// Package state is the file-state model every command that writes a project shares
// (scaffold new, update, vendor, add and remove module, deploy-config): scaffold.yaml, the
// manifest that records what scaffold last wrote (a checksum per file, and the answers it
// rendered from); one classification of each file against the folder and that record
// (Change, Classify); planning against the record (PlanAgainst); staging a plan under an
// edit policy (Stage); and the atomic commit of the staged set (Commit, CommitAll).
// Generators render into a generators.FileSet; only this package decides what writing it does.
package state
