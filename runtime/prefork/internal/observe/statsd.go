package observe

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// StatsD, as Gunicorn sends it (gunicorn/instrument/statsd.py), over UDP
// (or a unix datagram socket): each worker sends, per request,
//
//	<prefix>gunicorn.request.duration:<ms>|ms
//	<prefix>gunicorn.requests:1|c|@1.0
//	<prefix>gunicorn.request.status.<code>:1|c|@1.0
//
// and the master sends <prefix>gunicorn.workers:<n>|g when the number of
// workers changes. With --dogstatsd-tags, "|#<tags>" ends every metric.
//
// Unlike Gunicorn, a request never waits for a send: it hands its figures
// to a buffered channel (dropped when full), and one goroutine packs the
// lines into datagrams of at most statsdPacket bytes, sent when full or
// every statsdFlush. StatsD servers (etsy's, Datadog's agent, Telegraf)
// read several newline-separated metrics per datagram.
const (
	statsdPacket = 1432 // fits one Ethernet MTU with IPv6 and UDP headers
	statsdFlush  = 100 * time.Millisecond
	statsdQueue  = 4096
)

type statsdEvent struct {
	status int
	d      time.Duration
}

type StatsdClient struct {
	conn   net.Conn
	prefix string
	tags   string // "|#a:b,c" or ""
	events chan statsdEvent
	gauges chan string
	stop   chan struct{}
	done   chan struct{}
}

// statsdPrefix follows Gunicorn: a trailing "." is added when missing.
func statsdPrefix(p string) string {
	if p == "" || strings.HasSuffix(p, ".") {
		return p
	}
	return p + "."
}

// parseStatsDHost accepts host:port (UDP, default port 8125 as in
// Gunicorn), unix:/path or unix:///path (a unix datagram socket).
func ParseStatsDHost(s string) (network, address string, err error) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return "", "", fmt.Errorf("prefork: statsd-host %q: unix: needs a socket path: %w", s, settings.ErrInvalid)
		}
		return "unixgram", p, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") && !strings.HasPrefix(s, "[") {
			return "", "", fmt.Errorf("prefork: statsd-host %q: must be host:port, host or unix:/path: %w", s, settings.ErrInvalid)
		}
		host, port = strings.Trim(s, "[]"), "8125"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
		return "", "", fmt.Errorf("prefork: statsd-host %q: must be host:port with a port from 1 to 65535, or unix:/path: %w", s, settings.ErrInvalid)
	}
	return "udp", net.JoinHostPort(host, port), nil
}

// validStatsDTags keeps tags from breaking the datagram format.
func ValidStatsDTags(s string) bool {
	return !strings.ContainsAny(s, "|\n\r# ")
}

func NewStatsD(host, prefix, tags string) (*StatsdClient, error) {
	network, address, err := ParseStatsDHost(host)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial(network, address)
	if err != nil {
		return nil, fmt.Errorf("prefork: statsd-host %s: %w", host, err)
	}
	c := &StatsdClient{conn: conn, prefix: statsdPrefix(prefix), events: make(chan statsdEvent, statsdQueue),
		gauges: make(chan string, 16), stop: make(chan struct{}), done: make(chan struct{})}
	if tags != "" {
		c.tags = "|#" + tags
	}
	go c.run()
	return c, nil
}

// request counts one finished request; it never blocks.
func (c *StatsdClient) Request(status int, d time.Duration) {
	if c == nil {
		return
	}
	select {
	case c.events <- statsdEvent{status, d}:
	default: // the sender is behind: drop, as UDP would
	}
}

// gauge sends name:v|g; it never blocks.
func (c *StatsdClient) Gauge(name string, v int64) { c.metric(name, v, "|g") }

// histogram sends name:v|h (Gunicorn's type for gunicorn.backlog).
func (c *StatsdClient) Histogram(name string, v int64) { c.metric(name, v, "|h") }

func (c *StatsdClient) metric(name string, v int64, typ string) {
	if c == nil {
		return
	}
	select {
	case c.gauges <- c.prefix + name + ":" + strconv.FormatInt(v, 10) + typ + c.tags:
	default:
	}
}

// appendRequest appends the three lines of one request.
func (c *StatsdClient) appendRequest(b []byte, e statsdEvent) []byte {
	line := func(b []byte, name string, val []byte, typ string) []byte {
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = append(b, c.prefix...)
		b = append(b, name...)
		b = append(b, ':')
		b = append(b, val...)
		b = append(b, typ...)
		return append(b, c.tags...)
	}
	var num [32]byte
	b = line(b, "gunicorn.request.duration", strconv.AppendFloat(num[:0], float64(e.d.Microseconds())/1e3, 'f', -1, 64), "|ms")
	b = line(b, "gunicorn.requests", []byte("1"), "|c|@1.0")
	return line(b, "gunicorn.request.status."+strconv.Itoa(e.status), []byte("1"), "|c|@1.0")
}

func (c *StatsdClient) run() {
	defer close(c.done)
	tick := time.NewTicker(statsdFlush)
	defer tick.Stop()
	var pkt, tmp []byte
	send := func() {
		if len(pkt) > 0 {
			c.conn.Write(pkt) // errors (no listener: ECONNREFUSED) are not the request's business
			pkt = pkt[:0]
		}
	}
	add := func(lines []byte) {
		if len(pkt) > 0 && len(pkt)+1+len(lines) > statsdPacket {
			send()
		}
		if len(pkt) > 0 {
			pkt = append(pkt, '\n')
		}
		pkt = append(pkt, lines...)
	}
	onEvent := func(e statsdEvent) {
		tmp = c.appendRequest(tmp[:0], e)
		add(tmp)
	}
	for {
		select {
		case e := <-c.events:
			onEvent(e)
		case g := <-c.gauges:
			add([]byte(g))
		case <-tick.C:
			send()
		case <-c.stop: // drain the queues, then the last datagram
			for {
				select {
				case e := <-c.events:
					onEvent(e)
				case g := <-c.gauges:
					add([]byte(g))
				default:
					send()
					return
				}
			}
		}
	}
}

// Close sends what is queued and closes the socket.
func (c *StatsdClient) Close() {
	if c == nil {
		return
	}
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	c.conn.Close()
}
