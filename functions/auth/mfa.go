package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/service"
)

// loadMFA reads MFA_ENCRYPTION_KEY and returns the box TOTP secrets are sealed with. With ENV=local an empty
// key means a random one for this process, with a warning; elsewhere it is an error, and the caller serves
// without second-factor enrolment.
func loadMFA(env *service.Env) (*identity.SecretBox, error) {
	ctx := context.Background()
	res, err := secrets.NewResolver(ctx)
	if err != nil {
		return nil, err
	}
	var cfg identity.MFAConfig
	if err := config.Load(ctx, &cfg, config.WithResolver(res)); err != nil {
		return nil, err
	}
	if cfg.EncryptionKey == "" {
		if !env.Config.Local() {
			return nil, errors.New("MFA_ENCRYPTION_KEY is required outside ENV=local")
		}
		env.Log.Warn("MFA_ENCRYPTION_KEY is not set: TOTP secrets are sealed with a random key of this process and are lost when it stops")
		key := make([]byte, identity.MFAKeyBytes)
		_, _ = rand.Read(key) // never fails
		return identity.NewSecretBox(key)
	}
	key, err := identity.ParseMFAKey(cfg.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("MFA_ENCRYPTION_KEY: %w", err)
	}
	return identity.NewSecretBox(key)
}

// mfa serves the second factor: enrolment, its removal and the second step of a login.
type mfa struct {
	env *service.Env
	ids *identity.Service
}

// registerMFA adds the second-factor routes to mux. They sit behind AuthenticatedEnrolling: a member of an
// organization that requires a second factor must reach them to get one.
func registerMFA(env *service.Env, mux *http.ServeMux, ids *identity.Service) {
	m := &mfa{env: env, ids: ids}
	mux.Handle("POST /v1/auth/login/mfa", httpx.HandlerFunc(m.login))
	mux.Handle("GET /v1/auth/mfa/totp", env.AuthenticatedEnrolling(httpx.HandlerFunc(m.status)))
	mux.Handle("POST /v1/auth/mfa/totp", env.AuthenticatedEnrolling(httpx.HandlerFunc(m.start)))
	mux.Handle("POST /v1/auth/mfa/totp/confirm", env.AuthenticatedEnrolling(httpx.HandlerFunc(m.confirm)))
	mux.Handle("DELETE /v1/auth/mfa/totp", env.AuthenticatedEnrolling(httpx.HandlerFunc(m.remove)))
}

// mfaRequiredProblem is the 401 of a right password that still owes a code: a problem+json with the
// challenge's token as an extension member (RFC 9457 §3.2).
type mfaRequiredProblem struct {
	httpx.Problem
	MFAToken  string `json:"mfa_token"`
	ExpiresIn int64  `json:"expires_in"`
}

// writeMFARequired answers a login that owes a second factor.
func writeMFARequired(w http.ResponseWriter, env *service.Env, e *identity.MFARequiredError) error {
	p := mfaRequiredProblem{
		Problem:   *httpx.ProblemOf(identity.ErrMFARequired),
		MFAToken:  e.Token,
		ExpiresIn: int64(math.Ceil(e.ExpiresAt.Sub(env.Now()).Seconds())),
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusUnauthorized)
	return json.NewEncoder(w).Encode(p)
}

type mfaLoginRequest struct {
	MFAToken string `json:"mfa_token"`
	Code     string `json:"code"`
}

func (m *mfa) login(w http.ResponseWriter, r *http.Request) error {
	var in mfaLoginRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	now := m.env.Now()
	sess, err := m.ids.LoginMFA(r.Context(), clientAddr(r), in.MFAToken, in.Code, now)
	if err != nil {
		return err
	}
	return writeSession(w, m.env, sess, now)
}

func (m *mfa) status(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	st, err := m.ids.MFAStatus(r.Context(), p.IdentityID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (m *mfa) start(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	en, err := m.ids.StartTOTP(r.Context(), p.IdentityID, m.env.Now())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, en)
	return nil
}

type codeRequest struct {
	Code string `json:"code"`
}

type recoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (m *mfa) confirm(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	var in codeRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	codes, err := m.ids.ConfirmTOTP(r.Context(), clientAddr(r), p.IdentityID, in.Code, m.env.Now())
	if errors.Is(err, identity.ErrInvalidMFACode) {
		return identity.ErrWrongMFACode
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, recoveryCodes{RecoveryCodes: codes})
	return nil
}

type removeRequest struct {
	Code     string `json:"code"`
	Password string `json:"password"`
}

func (m *mfa) remove(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	var in removeRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	err := m.ids.RemoveTOTP(r.Context(), clientAddr(r), p.IdentityID, in.Code, in.Password, m.env.Now())
	switch {
	case errors.Is(err, identity.ErrInvalidMFACode):
		return identity.ErrWrongMFACode
	case errors.Is(err, identity.ErrInvalidCredentials):
		return identity.ErrWrongPassword
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
