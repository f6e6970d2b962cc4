package obs

import (
	"context"
	"log/slog"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	tenantKey
	traceKey
)

type traceInfo struct {
	trace   string
	spanID  string
	sampled bool
}

// WithRequestID returns ctx carrying the request id logged as request_id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// WithTenant returns ctx carrying the tenant id logged as tenant_id.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, tenantKey, tenantID)
}

// WithTrace returns ctx carrying the trace Cloud Logging correlates records with. trace must be the full
// resource name, projects/PROJECT_ID/traces/TRACE_ID, because Cloud Logging links only that form to Cloud
// Trace; spanID is 16 hex digits as ParseCloudTraceContext and ParseTraceparent return it.
func WithTrace(ctx context.Context, trace, spanID string, sampled bool) context.Context {
	return context.WithValue(ctx, traceKey, traceInfo{trace: trace, spanID: spanID, sampled: sampled})
}

// contextAttrs returns the request-scoped attributes stored in ctx, leaving out the ones never set so a record
// made outside a request carries no empty request_id.
func contextAttrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	var attrs []slog.Attr
	if id, _ := ctx.Value(requestIDKey).(string); id != "" {
		attrs = append(attrs, slog.String(keyRequestID, id))
	}
	if tenant, _ := ctx.Value(tenantKey).(string); tenant != "" {
		attrs = append(attrs, slog.String(keyTenantID, tenant))
	}
	if tr, ok := ctx.Value(traceKey).(traceInfo); ok && tr.trace != "" {
		attrs = append(attrs, slog.String(keyTrace, tr.trace))
		if tr.spanID != "" {
			attrs = append(attrs, slog.String(keySpanID, tr.spanID))
		}
		attrs = append(attrs, slog.Bool(keyTraceSampled, tr.sampled))
	}
	return attrs
}
