package settings

import (
	"errors"
	"strings"
)

// The modes of --http2-cleartext (Gunicorn 26.2): which way a peer may start HTTP/2
// without TLS (h2c). Only peers in --forwarded-allow-ips get it; everyone else is
// served HTTP/1.x as if it were off.
const (
	H2COff            = "off"
	H2CPriorKnowledge = "prior-knowledge" // the connection opens with the HTTP/2 preface
	H2CUpgrade        = "upgrade"         // an HTTP/1.1 request with Upgrade: h2c
	H2CBoth           = "both"
)

// ParseH2CMode is the one parser of --http2-cleartext: off (or false), prior-knowledge
// (or true), upgrade or both, in any case. Off is "", the zero value.
func ParseH2CMode(s string) (string, error) {
	switch m := strings.ToLower(strings.TrimSpace(s)); m {
	case "", H2COff, "false":
		return "", nil
	case H2CPriorKnowledge, "true":
		return H2CPriorKnowledge, nil
	case H2CUpgrade, H2CBoth:
		return m, nil
	}
	return "", errors.New("must be off, prior-knowledge, upgrade or both")
}

// H2CPriorKnowledgeOn reports whether mode serves HTTP/2 to a trusted peer that opens
// with the HTTP/2 preface (prior-knowledge, both).
func H2CPriorKnowledgeOn(mode string) bool { return mode == H2CPriorKnowledge || mode == H2CBoth }

// H2CUpgradeOn reports whether mode asks for the Upgrade: h2c mechanism (upgrade,
// both), which Go's net/http does not implement (RFC 9113 deprecated it): such a
// request is served over HTTP/1.1, as a server that ignores Upgrade may.
func H2CUpgradeOn(mode string) bool { return mode == H2CUpgrade || mode == H2CBoth }

// H2CUpgradeNote is the start-up log's line and -h's sentence about upgrade and both.
const H2CUpgradeNote = "Upgrade: h2c is not implemented by Go's net/http (RFC 9113 deprecated it): such a request is served over HTTP/1.1, as a server that ignores Upgrade may"
