package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/sso/signin"
)

// ssoPart is the SSO routes' handler built from their configuration (sso.Config), which service.Main loads
// and validates before the function serves: a bad value stops the start.
var ssoPart = service.NewPart(loadSSO)

// registerSSO adds the routes of per-organization single sign-on (OIDC code flow with PKCE) to mux. An Env
// that service.Main did not start (the dev server's, tests') loads the configuration here; when it is invalid
// the function still serves everything else, and the two routes answer 503 while the log says why.
func registerSSO(env *service.Env, mux *http.ServeMux) {
	h, err := ssoPart.Get(context.Background(), env)
	if err != nil {
		env.Log.Error("single sign-on is unavailable: its configuration is invalid", "error", err.Error())
		unavailable := httpx.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return signin.ErrUnconfigured
		})
		mux.Handle("GET /v1/auth/sso/{tenant}/start", unavailable)
		mux.Handle("GET /v1/auth/sso/{tenant}/callback", unavailable)
		return
	}
	h.register(mux)
}

// loadSSO reads the SSO configuration from the environment and builds the routes' handler.
func loadSSO(ctx context.Context, env *service.Env) (*ssoHandler, error) {
	// One resolver for the process: it resolves SSO_STATE_KEY now and the connections' client secrets later,
	// caching each, and creates its Secret Manager client only when a reference appears.
	res, err := secrets.NewResolver(ctx)
	if err != nil {
		return nil, err
	}
	var cfg sso.Config
	if err := config.Load(ctx, &cfg, config.WithResolver(res)); err != nil {
		return nil, err
	}
	return newSSOHandler(env, ssoOptions{cfg: cfg, secrets: res})
}

// ssoOptions are what the SSO routes are built from besides the Env; tests pass their own.
type ssoOptions struct {
	cfg     sso.Config
	secrets *secrets.Resolver
}

type ssoHandler struct {
	env *service.Env
	svc *signin.Service
	// base is SSO_PUBLIC_URL without its trailing slash, or empty.
	base string
}

// newSSOHandler builds the routes' handler, refusing a configuration production cannot work with.
func newSSOHandler(env *service.Env, o ssoOptions) (*ssoHandler, error) {
	prod := env.Config.Production()
	var signer *sso.StateSigner
	switch {
	case o.cfg.StateKey != "":
		key, err := sso.ParseStateKey(o.cfg.StateKey)
		if err != nil {
			return nil, fmt.Errorf("SSO_STATE_KEY: %w", err)
		}
		if signer, err = sso.NewStateSigner(key); err != nil {
			return nil, err
		}
	case prod:
		return nil, errors.New("SSO_STATE_KEY is required in production: every instance must open the states the others sign")
	default:
		signer = sso.RandomStateSigner()
	}
	if prod && o.cfg.PublicURL == "" {
		return nil, errors.New("SSO_PUBLIC_URL is required in production: the callback URL must name the gateway, not the service")
	}
	returns, err := sso.NewReturnPolicy(o.cfg.ReturnURLs, env.Config.Local())
	if err != nil {
		return nil, fmt.Errorf("SSO_RETURN_URLS: %w", err)
	}
	// Sign-in only opens sessions with it; it never checks or hashes a password.
	ids := env.Identities()
	svc := signin.New(signin.Options{
		Directory: env.DB.Directory,
		Tenants:   env.DB.Tenants,
		Identity:  ids,
		Secrets:   o.secrets,
		// Providers on private addresses are refused in production only: local runs and tests use loopback ones.
		Providers: signin.NewProviders(signin.NewHTTPClient(!prod), signin.ProviderTTL),
		State:     signer,
		Returns:   returns,
		Now:       func() time.Time { return env.Now() },
		Log:       env.Log,
		// Locally an organization may keep a plain client secret, and its domains cannot be verified by DNS.
		PlainSecrets:           env.Config.Local(),
		TrustUnverifiedDomains: env.Config.Local(),
	})
	return &ssoHandler{env: env, svc: svc, base: o.cfg.BaseURL()}, nil
}

func (h *ssoHandler) register(mux *http.ServeMux) {
	mux.Handle("GET /v1/auth/sso/{tenant}/start", httpx.HandlerFunc(h.start))
	mux.Handle("GET /v1/auth/sso/{tenant}/callback", httpx.HandlerFunc(h.callback))
}

// callbackURL is the redirect URI of the organization slug: under SSO_PUBLIC_URL, or where the request came
// in when that is not set (never in production).
func (h *ssoHandler) callbackURL(r *http.Request, slug string) string {
	base := h.base
	if base == "" {
		scheme := "http"
		if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/v1/auth/sso/" + url.PathEscape(slug) + "/callback"
}

// verifierCookie names the cookie that keeps a sign-in's PKCE verifier. Over https it takes the __Host-
// prefix, which browsers accept only with Secure, Path=/ and no Domain, so no sibling subdomain can plant one.
func verifierCookie(stateID string, secure bool) string {
	if secure {
		return "__Host-sso-" + stateID
	}
	return "sso-" + stateID
}

func slugOf(r *http.Request) string { return strings.ToLower(strings.TrimSpace(r.PathValue("tenant"))) }

func (h *ssoHandler) start(w http.ResponseWriter, r *http.Request) error {
	slug := slugOf(r)
	callback := h.callbackURL(r, slug)
	q := r.URL.Query()
	a, err := h.svc.Start(r.Context(), signin.StartInput{
		Slug: slug, ReturnTo: q.Get("return_to"), LoginHint: q.Get("login_hint"), RedirectURL: callback,
	})
	if err != nil {
		return err
	}
	secure := strings.HasPrefix(callback, "https://")
	http.SetCookie(w, &http.Cookie{
		Name: verifierCookie(a.StateID, secure), Value: a.Verifier, Path: "/",
		MaxAge: int(sso.StateTTL.Seconds()), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
	redirect(w, a.URL)
	return nil
}

func (h *ssoHandler) callback(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	q := r.URL.Query()
	st, err := h.svc.OpenState(q.Get("state"))
	if err != nil {
		return err
	}
	slug := slugOf(r)
	callback := h.callbackURL(r, slug)
	secure := strings.HasPrefix(callback, "https://")
	name := verifierCookie(st.ID, secure)
	var verifier string
	if c, err := r.Cookie(name); err == nil {
		verifier = c.Value
	}
	// The verifier is good for one attempt, whatever its outcome.
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	res, err := h.svc.Finish(r.Context(), st, signin.Callback{
		Slug: slug, Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
		Verifier: verifier, RedirectURL: callback,
	})
	if err != nil {
		return err
	}
	tokens, err := res.Session.Tokens(h.env.Issuer, h.env.Now())
	if err != nil {
		return err
	}
	if res.ReturnTo != "" {
		// Tokens travel in the fragment, which browsers never send to a server nor put in a Referer.
		frag := url.Values{
			"access_token": {tokens.AccessToken}, "refresh_token": {tokens.RefreshToken}, "token_type": {tokens.TokenType},
			"expires_in": {strconv.FormatInt(tokens.ExpiresIn, 10)}, "tenant": {res.Session.TenantSlug},
		}
		redirect(w, res.ReturnTo+"#"+frag.Encode())
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, loginResponse{
		Tenant: loginTenant{ID: res.Session.Principal.TenantID.String(), Slug: res.Session.TenantSlug, Role: res.Session.Principal.Role},
		Tokens: tokens,
	})
	return nil
}

// redirect answers 302 to location without the HTML body http.Redirect writes, which would repeat the URL
// (and a callback's tokens) in the response.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
