package httpx

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/obs"
	"github.com/coditect/hyperscale/shared/token"
)

type principalKey struct{}

type sessionKey struct{}

// WithPrincipal returns ctx carrying p, as Authenticate leaves it for handlers.
func WithPrincipal(ctx context.Context, p token.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the authenticated principal of the request, if any.
func PrincipalFrom(ctx context.Context) (token.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(token.Principal)
	return p, ok
}

// WithSession returns ctx carrying s, the session of the request's access token, as Authenticate leaves it.
func WithSession(ctx context.Context, s token.Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session of the request's access token, if any.
func SessionFrom(ctx context.Context) (token.Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(token.Session)
	return s, ok
}

// Authenticate admits only requests carrying a valid access token and puts its principal (identity, tenant,
// role) and its session in the request's context. now is the clock tokens are checked against. Whether the
// session is still open is the directory's to say: service.Env.Authenticated asks it after this.
func Authenticate(v *token.Verifier, now func() time.Time) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := bearer(r)
			if !ok {
				WriteProblem(w, copyOf(errUnauthorized).WithHeader("WWW-Authenticate", `Bearer realm="hyperscale"`))
				return
			}
			p, sess, err := v.VerifySession(raw, now())
			if err != nil {
				prob := NewProblem(http.StatusUnauthorized, "invalid_token", "the access token is not valid")
				if errors.Is(err, token.ErrExpired) {
					prob = NewProblem(http.StatusUnauthorized, "token_expired", "the access token has expired; refresh it")
				}
				Logger(r.Context()).InfoContext(r.Context(), "token refused", "error", err.Error())
				WriteProblem(w, prob.WithHeader("WWW-Authenticate", `Bearer realm="hyperscale", error="invalid_token"`))
				return
			}
			ctx := obs.WithTenant(WithSession(WithPrincipal(r.Context(), p), sess), p.TenantID.String())
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// bearer finds the caller's token. Behind API Gateway the caller's Authorization header arrives as
// X-Forwarded-Authorization (the gateway signs its own call to the function), so that one is read first.
func bearer(r *http.Request) (string, bool) {
	for _, h := range []string{"X-Forwarded-Authorization", "Authorization"} {
		v := r.Header.Get(h)
		if v == "" {
			continue
		}
		scheme, raw, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			return "", false
		}
		return strings.TrimSpace(raw), true
	}
	return "", false
}
