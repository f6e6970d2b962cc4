package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/coditect/hyperscale/shared/obs"
	"github.com/google/uuid"
)

type loggerKey struct{}

// Logger returns the request's logger, or the default one outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Edge is the middleware every function's handler runs inside.
type Edge struct {
	// Log is the function's logger; request ids and traces are added per request.
	Log *slog.Logger
	// ProjectID is the Google Cloud project, so trace ids take Cloud Logging's full form.
	ProjectID string
	// TrustedProxies is how many proxies in front of the function append to X-Forwarded-For; ClientAddr
	// answers with the caller's address it implies (ClientAddrBehind).
	TrustedProxies int
	// BodyReadTimeout bounds the time a client has to send a request's body, from the moment the handler
	// starts; a body not read in time is answered 408 request_timeout. Zero leaves the body unbounded. The
	// bound lives here rather than in an http.Server because the functions run under the Functions
	// Framework's server, whose timeouts cannot be set.
	BodyReadTimeout time.Duration
	// AllowedOrigins are the browser origins whose preflights are answered and whose requests' answers are
	// readable (CORSConfig); empty allows none.
	AllowedOrigins []string
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// Wrap returns next inside request-id, trace, client-address, access-log, panic-recovery and CORS middleware,
// with the body's read time bounded by BodyReadTimeout. CORS is innermost, so a preflight is logged and tagged
// like any request, and answered before anything next puts in front of its routes (authentication).
func (e Edge) Wrap(next http.Handler) http.Handler {
	next = corsHandler(e.AllowedOrigins, next)
	log := e.Log
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := obs.WithRequestID(r.Context(), id)
		if trace, span, sampled, ok := e.trace(r); ok {
			ctx = obs.WithTrace(ctx, trace, span, sampled)
		}
		ctx = context.WithValue(ctx, loggerKey{}, log)
		client := ClientAddrBehind(r, e.TrustedProxies)
		ctx = withClientAddr(ctx, client)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !rec.wrote {
					WriteProblem(rec, errInternal)
				}
			}
			log.InfoContext(ctx, "request",
				slog.Group("httpRequest",
					"requestMethod", r.Method,
					"requestUrl", r.URL.Path,
					"status", rec.status,
					"responseSize", rec.size,
					"latency", fmt.Sprintf("%.6fs", time.Since(start).Seconds()),
					"userAgent", r.UserAgent(),
					// The address throttling keys the caller by, so an operator can check TRUSTED_PROXY_COUNT.
					"remoteIp", clientLog(client),
				))
		}()
		req := r.WithContext(ctx)
		boundBodyRead(w, req, e.BodyReadTimeout)
		next.ServeHTTP(rec, req)
	})
}

// clientLog is a client address as the access log shows it: empty when unknown.
func clientLog(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (e Edge) trace(r *http.Request) (trace, span string, sampled, ok bool) {
	var id string
	if id, span, sampled, ok = obs.ParseTraceparent(r.Header.Get("traceparent")); !ok {
		id, span, sampled, ok = obs.ParseCloudTraceContext(r.Header.Get("X-Cloud-Trace-Context"))
	}
	if !ok {
		return "", "", false, false
	}
	if e.ProjectID != "" {
		id = "projects/" + e.ProjectID + "/traces/" + id
	}
	return id, span, sampled, true
}

// recorder remembers what was written, for the access log and so recovery never writes a second header.
type recorder struct {
	http.ResponseWriter
	status int
	size   int
	wrote  bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.size += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (MaxBytesReader, flushing).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// HandlerFunc is an HTTP handler that returns its failure instead of writing it, so every error takes the
// same path to a problem+json answer.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs f and answers its error with WriteError.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return // the client went away; nobody is left to answer
		}
		WriteError(w, r, err)
	}
}
