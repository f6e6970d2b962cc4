package identity

import (
	"fmt"
	"math"
	"time"

	"github.com/coditect/hyperscale/shared/token"
)

// Tokens is the token part of every answer that logs someone in (sign-up, login, later refresh and switch).
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds, as OAuth 2.0 (RFC 6749 §5.1) spells it.
	ExpiresIn int64 `json:"expires_in"`
}

// Tokens mints the session's access token (naming the session and its membership version) with issuer and
// pairs it with its refresh token.
func (s Session) Tokens(issuer *token.Issuer, now time.Time) (Tokens, error) {
	if issuer == nil {
		return Tokens{}, fmt.Errorf("issue tokens: this function has no signing key")
	}
	raw, exp, err := issuer.Issue(s.Principal, token.Session{ID: s.ID, MembershipVersion: s.MembershipVersion}, now)
	if err != nil {
		return Tokens{}, fmt.Errorf("issue tokens: %w", err)
	}
	return Tokens{AccessToken: raw, RefreshToken: s.RefreshToken, TokenType: "Bearer", ExpiresIn: int64(math.Ceil(exp.Sub(now).Seconds()))}, nil
}
