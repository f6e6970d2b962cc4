// Package obs is the platform's logging plumbing: slog JSON in the structured shape Cloud Logging reads,
// with the request id, tenant and trace of the request attached to every record logged with its context.
package obs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Keys Cloud Logging lifts out of a structured JSON line into the LogEntry itself.
const (
	keySeverity     = "severity"
	keyMessage      = "message"
	keySource       = "logging.googleapis.com/sourceLocation"
	keyTrace        = "logging.googleapis.com/trace"
	keySpanID       = "logging.googleapis.com/spanId"
	keyTraceSampled = "logging.googleapis.com/trace_sampled"
	keyRequestID    = "request_id"
	keyTenantID     = "tenant_id"
	keyService      = "service"
)

// NewLogger returns a logger writing one JSON object per line to w in Cloud Logging's structured shape:
// severity (DEBUG, INFO, WARNING, ERROR), message, time (RFC 3339), sourceLocation and service, plus the
// request-scoped values of ContextHandler for records logged with a context.
func NewLogger(w io.Writer, level slog.Level, service string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		AddSource:   true,
		Level:       level,
		ReplaceAttr: cloudLoggingAttr,
	})
	var inner slog.Handler = h
	if service != "" {
		inner = h.WithAttrs([]slog.Attr{slog.String(keyService, service)})
	}
	return slog.New(NewContextHandler(inner))
}

// Log formats, as LOG_FORMAT spells them.
const (
	// FormatJSON is Cloud Logging's structured JSON, one object per line: the production format.
	FormatJSON = "json"
	// FormatText is slog's key=value text for a developer's terminal.
	FormatText = "text"
)

// NewLoggerFormat returns NewLogger's logger for FormatJSON and NewTextLogger's for FormatText; any other
// format is an error.
func NewLoggerFormat(w io.Writer, format string, level slog.Level, service string) (*slog.Logger, error) {
	switch format {
	case FormatJSON:
		return NewLogger(w, level, service), nil
	case FormatText:
		return NewTextLogger(w, level, service), nil
	default:
		return nil, fmt.Errorf("log format %q, want %s or %s", format, FormatJSON, FormatText)
	}
}

// NewTextLogger returns a logger for a terminal: one short key=value line per record (clock time, level,
// message, then the attributes), with the same request-scoped values as NewLogger but none of Cloud Logging's
// renamed keys or source locations, which make a local request log hard to read.
func NewTextLogger(w io.Writer, level slog.Level, service string) *slog.Logger {
	h := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				a.Value = slog.StringValue(a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	})
	var inner slog.Handler = h
	if service != "" {
		inner = h.WithAttrs([]slog.Attr{slog.String(keyService, service)})
	}
	return slog.New(NewContextHandler(inner))
}

// cloudLoggingAttr renames slog's built-in keys to Cloud Logging's. Only top-level keys are touched, so a
// caller's own "level" or "msg" inside a group stays as written.
func cloudLoggingAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = keyMessage
	case slog.LevelKey:
		a.Key = keySeverity
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(Severity(l))
		}
	case slog.SourceKey:
		a.Key = keySource
	}
	return a
}

// Severity returns the Cloud Logging severity name for an slog level. Levels between the named ones round
// down, so slog.LevelWarn+2 is still WARNING and nothing below ERROR pages anyone.
func Severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// ParseLevel parses a log level name as configuration spells it: debug, info, warn or warning, error, in any
// case, optionally with an offset such as "info+2" (slog's own syntax).
func ParseLevel(s string) (slog.Level, error) {
	name := strings.TrimSpace(s)
	if strings.EqualFold(name, "warning") {
		return slog.LevelWarn, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return 0, fmt.Errorf("parse log level %q: %w", s, err)
	}
	return l, nil
}

// ContextHandler wraps a handler so that every record logged with a context carries the request id, tenant
// and trace stored in it by WithRequestID, WithTenant and WithTrace, at the top level of the record where
// Cloud Logging looks for them, even when the logger has open groups.
type ContextHandler struct {
	// base is the wrapped handler before any group was opened; groups and attrs after that are replayed onto
	// it when a record needs request-scoped attributes at the top level.
	base slog.Handler
	// current is base with every WithAttrs and WithGroup applied, used for records that need nothing added
	// or when no group is open.
	current slog.Handler
	ops     []handlerOp
}

// handlerOp is one WithGroup (group set) or WithAttrs call made after a group was opened.
type handlerOp struct {
	group string
	attrs []slog.Attr
}

// NewContextHandler wraps h with request-scoped attributes from the context; see ContextHandler.
func NewContextHandler(h slog.Handler) *ContextHandler {
	return &ContextHandler{base: h, current: h}
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *ContextHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.current.Enabled(ctx, level)
}

// Handle adds the request-scoped attributes of ctx to r and passes it on.
func (h *ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := contextAttrs(ctx)
	if len(attrs) == 0 {
		return h.current.Handle(ctx, r)
	}
	if len(h.ops) == 0 {
		r.AddAttrs(attrs...)
		return h.current.Handle(ctx, r)
	}
	// Attributes added to the record would land inside the open group, where Cloud Logging ignores them;
	// rebuilding the chain with them first puts them at the top level. It costs allocations, but only for
	// grouped loggers.
	inner := h.base.WithAttrs(attrs)
	for _, op := range h.ops {
		if op.group != "" {
			inner = inner.WithGroup(op.group)
		} else {
			inner = inner.WithAttrs(op.attrs)
		}
	}
	return inner.Handle(ctx, r)
}

// WithAttrs returns a handler whose records also carry attrs.
func (h *ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	next := &ContextHandler{base: h.base, current: h.current.WithAttrs(attrs), ops: h.ops}
	if len(h.ops) == 0 {
		// With no group open the attributes are top-level anyway, so they can join base and the replay
		// chain stays empty.
		next.base = next.current
		return next
	}
	next.ops = append(h.ops[:len(h.ops):len(h.ops)], handlerOp{attrs: attrs})
	return next
}

// WithGroup returns a handler that nests later attributes under name.
func (h *ContextHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &ContextHandler{
		base:    h.base,
		current: h.current.WithGroup(name),
		ops:     append(h.ops[:len(h.ops):len(h.ops)], handlerOp{group: name}),
	}
}

// OrDiscard returns log, or a logger that drops every record when log is nil: the stores take an optional
// logger (tests and tools pass nil) and log through it unconditionally.
func OrDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
