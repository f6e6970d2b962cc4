package obs

import "context"

// RequestID returns the request id stored by WithRequestID, or "" when there is none, for the tests that
// check the context carries it.
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
