package auth

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/valid"
)

// verification serves the proof that an identity owns its email.
type verification struct {
	env *service.Env
	ids *identity.Service
}

// registerVerification adds the email-verification routes to mux.
func registerVerification(env *service.Env, mux *http.ServeMux, ids *identity.Service) {
	v := &verification{env: env, ids: ids}
	mux.Handle("POST /v1/auth/verify-email", httpx.HandlerFunc(v.verify))
	mux.Handle("POST /v1/auth/verify-email/resend", env.AuthenticatedEnrolling(httpx.HandlerFunc(v.resend)))
}

type verifyRequest struct {
	Token string `json:"token"`
}

func (v *verification) verify(w http.ResponseWriter, r *http.Request) error {
	var in verifyRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	if in.Token == "" {
		return valid.Errors{{Field: "token", Message: "is required"}}
	}
	err := v.ids.VerifyEmail(r.Context(), in.Token, v.env.Now())
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (v *verification) resend(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	err := v.ids.ResendVerification(r.Context(), p.IdentityID, v.env.Now())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusAccepted, resetAccepted{Status: "accepted", Detail: "a verification link is on its way to your email address"})
	return nil
}
