package serving

import (
	"net/http"
)

// forbiddenTrailer lists the fields a trailer may not carry (RFC 9110
// 6.5.1): they route, frame or authenticate the request.
var forbiddenTrailer = []string{"host", "content-length", "transfer-encoding", "trailer", "authorization", "te"}

// chunkScanner follows a chunked body as its bytes pass (RFC 9112 7.1):
// hex sizes only (no whitespace before an extension either: Gunicorn allows
// it, net/http's chunked reader does not, so it is refused here with a
// status rather than failing the app's read), CRLF after each
// size line and each chunk's data, trailers held to the header rules and
// free of the forbidden fields. It keeps no body bytes.
type chunkScanner struct {
	p       *requestPolicy
	st      chunkState
	size    uint64 // data bytes left in this chunk, or the size being read
	digits  int
	lineLen int      // bytes of the current size or trailer line
	name    [24]byte // a trailer's name, as far as a forbidden one goes
	nameLen int
	fields  int
}

type chunkState uint8

const (
	csSize chunkState = iota
	csExt
	csSizeLF
	csData
	csDataCR
	csDataLF
	csTrailerStart
	csTrailerName
	csTrailerValue
	csTrailerLF
	csEndLF
	csDone
)

// maxChunkLine bounds a chunk size line with its extensions, as net/http does.
const maxChunkLine = 4096

// scan follows b; it returns how many bytes of b belong to the body (all
// of them unless the body ended inside b) and whether it ended.
func (s *chunkScanner) scan(b []byte) (int, bool, *refusal) {
	badSize := refuse(400, "Invalid chunk size")
	badTerm := refuse(400, "Invalid chunk terminator is not '\\r\\n'")
	i := 0
	for i < len(b) {
		if s.st == csData {
			n := uint64(len(b) - i)
			if n > s.size {
				n = s.size
			}
			i += int(n)
			if s.size -= n; s.size == 0 {
				s.st = csDataCR
			}
			continue
		}
		c := b[i]
		i++
		switch s.st {
		case csSize:
			switch v := unhex(c); {
			case v >= 0:
				if s.digits++; s.digits > 16 {
					return i, false, badSize
				}
				s.size = s.size<<4 | uint64(v)
			case s.digits == 0:
				return i, false, badSize
			case c == ';':
				s.st = csExt
			case c == '\r':
				s.st = csSizeLF
			default:
				return i, false, badSize
			}
		case csExt:
			switch {
			case c == '\r':
				s.st = csSizeLF
			case c == '\n':
				return i, false, refuse(400, "Invalid chunk extension: bare LF")
			case s.lineLen > maxChunkLine:
				return i, false, refuse(400, "Invalid chunk extension: too long")
			}
			s.lineLen++
		case csSizeLF:
			if c != '\n' {
				return i, false, refuse(400, "Invalid chunk extension: bare CR")
			}
			s.digits, s.lineLen = 0, 0
			if s.size == 0 {
				s.st = csTrailerStart
			} else {
				s.st = csData
			}
		case csDataCR:
			if c != '\r' {
				return i, false, badTerm
			}
			s.st = csDataLF
		case csDataLF:
			if c != '\n' {
				return i, false, badTerm
			}
			s.st, s.size = csSize, 0
		case csTrailerStart:
			switch {
			case c == '\r':
				s.st = csEndLF
			case !token[c]:
				return i, false, refuse(400, "Invalid HTTP header name in trailer")
			default:
				if s.fields++; s.p.fields > 0 && s.fields > s.p.fields {
					return i, false, refuse(http.StatusRequestHeaderFieldsTooLarge, "limit request headers fields")
				}
				s.name[0], s.nameLen, s.lineLen, s.st = c, 1, 1, csTrailerName
			}
		case csTrailerName:
			s.lineLen++
			switch {
			case c == ':':
				if s.nameLen <= len(s.name) {
					for _, f := range forbiddenTrailer {
						if asciiEqualFold(s.name[:s.nameLen], f) {
							return i, false, refuse(400, "Invalid HTTP header name: "+f+" is forbidden in a trailer")
						}
					}
				}
				s.st = csTrailerValue
			case !token[c]:
				return i, false, refuse(400, "Invalid HTTP header name in trailer")
			case s.nameLen < len(s.name):
				s.name[s.nameLen] = c
				s.nameLen++
			default:
				s.nameLen = len(s.name) + 1 // longer than any forbidden name
			}
		case csTrailerValue:
			switch {
			case c == '\r':
				s.st = csTrailerLF
			case fieldCtl[c]:
				return i, false, refuse(400, "Invalid HTTP Header: control character in a trailer")
			}
			if s.lineLen++; s.p.fieldSize > 0 && s.lineLen+2 > s.p.fieldSize {
				return i, false, refuse(http.StatusRequestHeaderFieldsTooLarge, "limit request headers fields size")
			}
		case csTrailerLF:
			if c != '\n' {
				return i, false, badTerm
			}
			s.st = csTrailerStart
		case csEndLF:
			if c != '\n' {
				return i, false, badTerm
			}
			s.st = csDone
			return i, true, nil
		}
	}
	return i, false, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
