package identity

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Client is where a request that opens or refreshes a session came from, as the session list shows it.
type Client struct {
	// UserAgent is the request's User-Agent header.
	UserAgent string
	// Address is the caller's IP address as the function saw it (behind API Gateway, the first
	// X-Forwarded-For entry).
	Address string
}

// Bounds of what is stored of a client; the directory's CHECK constraints hold the same numbers.
const (
	maxUserAgent = 512
	maxAddress   = 64
)

type clientCtxKey struct{}

// WithClient returns ctx carrying c, for the sessions opened and refreshed under it. The edge middleware of
// every function sets it, so domain code that opens a session needs no parameter for it.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientCtxKey{}, c)
}

// ClientFrom returns the client ctx carries, cut to what the directory stores; the zero Client when none.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientCtxKey{}).(Client)
	return Client{UserAgent: clip(c.UserAgent, maxUserAgent), Address: clip(c.Address, maxAddress)}
}

// clip makes s storable as PostgreSQL text of at most n characters: valid UTF-8, no NUL, cut at n runes.
func clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
