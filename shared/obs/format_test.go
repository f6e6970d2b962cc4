package obs

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestNewLoggerFormat(t *testing.T) {
	t.Parallel()
	ctx := WithTenant(WithRequestID(context.Background(), "req-1"), "tenant-9")
	tests := []struct {
		format string
		want   *regexp.Regexp
	}{
		// JSON stays Cloud Logging's shape.
		{FormatJSON, regexp.MustCompile(`^\{"time":"[^"]+","severity":"INFO","logging.googleapis.com/sourceLocation":\{.*"message":"request",.*"status":200.*"request_id":"req-1".*"tenant_id":"tenant-9".*\}$`)},
		// Text is one short key=value line: clock time, level, message, attributes, the request's values.
		{FormatText, regexp.MustCompile(`^time=\d\d:\d\d:\d\d\.\d{3} level=INFO msg=request service=projects status=200 request_id=req-1 tenant_id=tenant-9$`)},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l, err := NewLoggerFormat(&buf, tt.format, slog.LevelInfo, "projects")
			if err != nil {
				t.Fatal(err)
			}
			l.DebugContext(ctx, "hidden below the level")
			l.InfoContext(ctx, "request", "status", 200)
			if line := strings.TrimSpace(buf.String()); !tt.want.MatchString(line) {
				t.Errorf("%s line:\n%s\nwant it to match %s", tt.format, line, tt.want)
			}
		})
	}
	if _, err := NewLoggerFormat(&bytes.Buffer{}, "yaml", slog.LevelInfo, ""); err == nil {
		t.Error("format yaml: no error")
	}
}
