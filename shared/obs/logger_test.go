package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
)

// lines decodes every JSON line written to buf.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// one decodes the single JSON line written to buf.
func one(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	ls := lines(t, buf)
	if len(ls) != 1 {
		t.Fatalf("got %d lines, want 1: %s", len(ls), buf)
	}
	return ls[0]
}

func TestLoggerShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		log          func(*slog.Logger)
		wantSeverity string
	}{
		{"debug", func(l *slog.Logger) { l.Debug("hello", "n", 1) }, "DEBUG"},
		{"info", func(l *slog.Logger) { l.Info("hello", "n", 1) }, "INFO"},
		{"warn", func(l *slog.Logger) { l.Warn("hello", "n", 1) }, "WARNING"},
		{"error", func(l *slog.Logger) { l.Error("hello", "n", 1) }, "ERROR"},
		{"between warn and error", func(l *slog.Logger) { l.Log(context.Background(), slog.LevelWarn+2, "hello", "n", 1) }, "WARNING"},
		{"above error", func(l *slog.Logger) { l.Log(context.Background(), slog.LevelError+4, "hello", "n", 1) }, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			tt.log(NewLogger(&buf, slog.LevelDebug, "projects"))
			m := one(t, &buf)
			if m["severity"] != tt.wantSeverity {
				t.Errorf("severity = %v, want %s", m["severity"], tt.wantSeverity)
			}
			if m["message"] != "hello" {
				t.Errorf("message = %v, want hello", m["message"])
			}
			if m["service"] != "projects" {
				t.Errorf("service = %v, want projects", m["service"])
			}
			if m["n"] != float64(1) {
				t.Errorf("n = %v, want 1", m["n"])
			}
			for _, gone := range []string{"msg", "level", "source", "request_id", "tenant_id", "logging.googleapis.com/trace"} {
				if _, ok := m[gone]; ok {
					t.Errorf("unexpected key %q in %v", gone, m)
				}
			}
			ts, ok := m["time"].(string)
			if !ok {
				t.Fatalf("time = %v, want a string", m["time"])
			}
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				t.Errorf("time %q is not RFC 3339: %v", ts, err)
			}
			src, ok := m["logging.googleapis.com/sourceLocation"].(map[string]any)
			if !ok || !strings.HasSuffix(src["file"].(string), "logger_test.go") || src["line"] == nil || src["function"] == nil {
				t.Errorf("sourceLocation = %v, want this test file", m["logging.googleapis.com/sourceLocation"])
			}
		})
	}
}

func TestLoggerLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelWarn, "svc")
	log.Debug("no")
	log.Info("no")
	log.Warn("yes")
	log.Error("yes", "err", errors.New("boom"))
	ls := lines(t, &buf)
	if len(ls) != 2 || ls[0]["severity"] != "WARNING" || ls[1]["severity"] != "ERROR" {
		t.Fatalf("records = %v, want WARNING then ERROR", ls)
	}
	if ls[1]["err"] != "boom" {
		t.Errorf("err = %v, want boom", ls[1]["err"])
	}
}

func TestLoggerContext(t *testing.T) {
	t.Parallel()
	const trace = "projects/p1/traces/4bf92f3577b34da6a3ce929d0e0e4736"
	full := WithTrace(WithTenant(WithRequestID(context.Background(), "req-1"), "tenant-9"), trace, "00f067aa0ba902b7", true)
	tests := []struct {
		name string
		ctx  context.Context
		log  func(*slog.Logger, context.Context)
		want map[string]any // nil value: key must be absent
	}{
		{
			name: "no context values",
			ctx:  context.Background(),
			want: map[string]any{"request_id": nil, "tenant_id": nil, "logging.googleapis.com/trace": nil, "logging.googleapis.com/spanId": nil, "logging.googleapis.com/trace_sampled": nil},
		},
		{
			name: "request id only",
			ctx:  WithRequestID(context.Background(), "req-1"),
			want: map[string]any{"request_id": "req-1", "tenant_id": nil, "logging.googleapis.com/trace": nil},
		},
		{
			name: "empty request id is left out",
			ctx:  WithRequestID(context.Background(), ""),
			want: map[string]any{"request_id": nil},
		},
		{
			name: "everything",
			ctx:  full,
			want: map[string]any{
				"request_id":                           "req-1",
				"tenant_id":                            "tenant-9",
				"logging.googleapis.com/trace":         trace,
				"logging.googleapis.com/spanId":        "00f067aa0ba902b7",
				"logging.googleapis.com/trace_sampled": true,
			},
		},
		{
			name: "trace not sampled, no span",
			ctx:  WithTrace(context.Background(), trace, "", false),
			want: map[string]any{"logging.googleapis.com/trace": trace, "logging.googleapis.com/spanId": nil, "logging.googleapis.com/trace_sampled": false},
		},
		{
			name: "logged without context carries nothing",
			ctx:  full,
			log:  func(l *slog.Logger, _ context.Context) { l.Info("hello") },
			want: map[string]any{"request_id": nil, "tenant_id": nil},
		},
		{
			name: "with attrs keeps request values top-level",
			ctx:  full,
			log:  func(l *slog.Logger, ctx context.Context) { l.With("k", "v").InfoContext(ctx, "hello") },
			want: map[string]any{"request_id": "req-1", "k": "v", "service": "svc"},
		},
		{
			name: "grouped logger keeps request values top-level",
			ctx:  full,
			log: func(l *slog.Logger, ctx context.Context) {
				l.With("outer", 1).WithGroup("g").With("k", "v").InfoContext(ctx, "hello", "n", 2)
			},
			want: map[string]any{
				"request_id":                   "req-1",
				"tenant_id":                    "tenant-9",
				"logging.googleapis.com/trace": trace,
				"outer":                        float64(1),
				"service":                      "svc",
				"message":                      "hello",
				"severity":                     "INFO",
				"g":                            map[string]any{"k": "v", "n": float64(2)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := NewLogger(&buf, slog.LevelInfo, "svc")
			if tt.log != nil {
				tt.log(log, tt.ctx)
			} else {
				log.InfoContext(tt.ctx, "hello")
			}
			m := one(t, &buf)
			for k, want := range tt.want {
				got, present := m[k]
				if want == nil {
					if present {
						t.Errorf("%s = %v, want absent", k, got)
					}
					continue
				}
				gotJSON, _ := json.Marshal(got)
				wantJSON, _ := json.Marshal(want)
				if !bytes.Equal(gotJSON, wantJSON) {
					t.Errorf("%s = %s, want %s", k, gotJSON, wantJSON)
				}
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("RequestID of empty context = %q", got)
	}
	ctx := WithRequestID(context.Background(), "abc")
	if got := RequestID(WithTenant(ctx, "t")); got != "abc" {
		t.Errorf("RequestID = %q, want abc", got)
	}
}

func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "INFO", want: slog.LevelInfo},
		{in: " info ", want: slog.LevelInfo},
		{in: "warn", want: slog.LevelWarn},
		{in: "Warning", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "info+2", want: slog.LevelInfo + 2},
		{in: "", wantErr: true},
		{in: "verbose", wantErr: true},
		{in: "3", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseLevel(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLevel(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestContextHandlerConformance runs the standard library's handler checks, with and without request values
// in the context, so the group replay in ContextHandler cannot drift from slog's rules.
func TestContextHandlerConformance(t *testing.T) {
	t.Parallel()
	for name, ctx := range map[string]context.Context{
		"plain context":        context.Background(),
		"context with request": WithTenant(WithRequestID(context.Background(), "req-1"), "tenant-9"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf *bytes.Buffer
			slogtest.Run(t, func(t *testing.T) slog.Handler {
				buf = &bytes.Buffer{}
				return fixedContext{NewContextHandler(slog.NewJSONHandler(buf, nil)), ctx}
			}, func(t *testing.T) map[string]any {
				m := one(t, buf)
				if got := m["request_id"]; (got != nil) != (RequestID(ctx) != "") {
					t.Errorf("request_id = %v with context %v", got, ctx)
				}
				// Take the request values out again so slogtest sees exactly what it logged.
				delete(m, "request_id")
				delete(m, "tenant_id")
				return m
			})
		})
	}
}

// fixedContext hands every record to its handler with ctx, because slogtest logs without a context.
type fixedContext struct {
	h   slog.Handler
	ctx context.Context
}

func (f fixedContext) Enabled(_ context.Context, l slog.Level) bool { return f.h.Enabled(f.ctx, l) }
func (f fixedContext) Handle(_ context.Context, r slog.Record) error {
	return f.h.Handle(f.ctx, r)
}
func (f fixedContext) WithAttrs(as []slog.Attr) slog.Handler {
	return fixedContext{f.h.WithAttrs(as), f.ctx}
}
func (f fixedContext) WithGroup(name string) slog.Handler {
	return fixedContext{f.h.WithGroup(name), f.ctx}
}
