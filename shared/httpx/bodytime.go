package httpx

import (
	"fmt"
	"net/http"
	"time"
)

// boundBodyRead gives r's body until now+d to arrive, through the connection's read deadline: a Read blocked
// past it fails with os.ErrDeadlineExceeded, which Decode and ReadBody answer with 408. Once the body has been
// read to its end, net/http lifts the deadline itself as it starts watching the idle connection for a client
// that goes away.
//
// A request without a body gets no deadline: for it the server watches the connection from the start, and a
// deadline passing during that watch would cancel a request still being served. Under a writer that cannot set
// deadlines (a test recorder) the body is left unbounded.
func boundBodyRead(w http.ResponseWriter, r *http.Request, d time.Duration) {
	if d <= 0 || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
}

// EdgeConfig is the part of a function's configuration that bounds what a client can make an instance wait
// for, read with go-envconfig.
type EdgeConfig struct {
	// BodyReadTimeout is how long a client has to send a request's body once its headers are in (Edge).
	BodyReadTimeout time.Duration `env:"BODY_READ_TIMEOUT, default=10s"`
}

// Bounds on BodyReadTimeout: under a second a phone on a poor network cannot send a 1 MiB body, and over two
// minutes a few slow clients hold an instance's connections for good.
const (
	MinBodyReadTimeout = time.Second
	MaxBodyReadTimeout = 2 * time.Minute
)

// Validate reports a BodyReadTimeout outside its bounds.
func (c EdgeConfig) Validate() error {
	if c.BodyReadTimeout < MinBodyReadTimeout || c.BodyReadTimeout > MaxBodyReadTimeout {
		return fmt.Errorf("BODY_READ_TIMEOUT %s is outside [%s, %s]", c.BodyReadTimeout, MinBodyReadTimeout, MaxBodyReadTimeout)
	}
	return nil
}
