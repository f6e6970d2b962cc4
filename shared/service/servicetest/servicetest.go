// Package servicetest builds a function's environment over a private test database and drives handlers with
// JSON requests, so each function's tests and the dev server's end-to-end tests share one harness.
package servicetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/contract"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/membership"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
)

// Issuer and Audience are the token claims test environments expect; CursorKey signs their list cursors.
const (
	Issuer    = "https://hyperscale.test"
	Audience  = "hyperscale-api"
	CursorKey = "aHlwZXJzY2FsZSB0ZXN0IGN1cnNvciBrZXksIDMyKyBieXRlcw" // base64 of 37 fixed bytes
)

// Fixture is one test's platform environment.
type Fixture struct {
	Env *service.Env
	DB  *dbtest.Database
	// Signer is the private key behind Env's key set, for tests that forge tokens around it.
	Signer *ecdsa.PrivateKey
}

// New returns an environment over a fresh database, with a freshly generated signing key.
func New(t testing.TB) *Fixture {
	t.Helper()
	d := dbtest.New(t)
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemText, err := token.EncodePrivatePEM(signer)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.ParseKeySet(pemText, "")
	if err != nil {
		t.Fatal(err)
	}
	var cfg service.Config
	cfg.Env = "test"
	cfg.Token = token.Config{Issuer: Issuer, Audience: Audience, AccessTTL: 15 * time.Minute, RefreshTTL: 7 * 24 * time.Hour,
		RefreshReuseInterval: identity.DefaultReuseInterval}
	// SessionCheckTTL and TenantStatusTTL stay 0: every request reads the directory, so a test sees a
	// revocation at once without moving the clock; the caches have tests of their own.
	// The limits production starts with; a test that wants others changes Env.Config.Throttle before building
	// its handler.
	cfg.Throttle = identity.ThrottleConfigOf(identity.DefaultLimits)
	cfg.Cursor.Key = CursorKey
	return &Fixture{Env: service.WithKeys(cfg, slog.New(slog.DiscardHandler), d.DB, keys), DB: d, Signer: signer}
}

// Token mints a valid access token for p in a session of its own: a real refresh-token family, so the token
// passes the session check as long as p's identity is a member of p's tenant and the session is not revoked
// (see Session). The token names the membership's current version and keeps p's role as given, so a test can
// mint a token with a role the membership does not have. For a p whose identity or tenant does not exist, the
// token names a session that does not exist either, and is refused like any token of an ended session.
func (f *Fixture) Token(t testing.TB, p token.Principal) string {
	t.Helper()
	raw, _ := f.TokenSession(t, p)
	return raw
}

// TokenSession is Token that also returns the session the token names, for tests that revoke it.
func (f *Fixture) TokenSession(t testing.TB, p token.Principal) (string, token.Session) {
	t.Helper()
	s := token.Session{ID: uuid.Must(uuid.NewV7()), MembershipVersion: 1}
	var version *int64
	err := f.DB.Owner.QueryRow(context.Background(), `WITH f AS (
			INSERT INTO directory.refresh_token_families (id, identity_id, tenant_id, created_at)
			SELECT $1, $2, $3, $4
			WHERE EXISTS (SELECT 1 FROM directory.identities WHERE id = $2) AND EXISTS (SELECT 1 FROM directory.tenants WHERE id = $3)
		)
		SELECT (SELECT version FROM directory.memberships WHERE tenant_id = $3 AND identity_id = $2)`,
		s.ID, p.IdentityID, p.TenantID, f.Env.Now()).Scan(&version)
	if err != nil {
		t.Fatalf("fixture session: %v", err)
	}
	if version != nil {
		s.MembershipVersion = *version
	}
	raw, _, err := f.Env.Issuer.Issue(p, s, f.Env.Now())
	if err != nil {
		t.Fatal(err)
	}
	return raw, s
}

// Password is the password SignUp gives owners.
const Password = "correct horse battery"

// SignUp creates the organization slug with an owner of email (password Password) through the domain service,
// and returns the owner's principal.
func (f *Fixture) SignUp(t testing.TB, slug, email string) token.Principal {
	t.Helper()
	ids := identity.New(f.Env.DB.Directory, identity.Params{Memory: 64, Time: 1, Threads: 1}, f.Env.Config.Token.RefreshTTL)
	svc := tenancy.New(f.Env.DB.Directory, f.Env.DB.Tenants, ids, f.Env.Log)
	_, sess, err := svc.SignUp(context.Background(), tenancy.SignUpInput{
		Name: "Org " + slug, Slug: slug, Owner: tenancy.Owner{Email: email, Password: Password, Name: "Owner"},
	}, f.Env.Now())
	if err != nil {
		t.Fatalf("sign up %s: %v", slug, err)
	}
	return sess.Principal
}

// Member creates an organization with one member of role (fixture rows written as the owner, no password) and
// returns that member's principal.
func (f *Fixture) Member(t testing.TB, role string) token.Principal {
	t.Helper()
	tenant := uuid.Must(uuid.NewV7())
	if _, err := f.DB.Owner.Exec(context.Background(), `INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, 'Fixture')`,
		tenant, "t-"+tenant.String()[24:]); err != nil {
		t.Fatalf("fixture tenant: %v", err)
	}
	return f.Join(t, tenant, role)
}

// Join adds a new identity to tenant with role and returns its principal.
func (f *Fixture) Join(t testing.TB, tenant uuid.UUID, role string) token.Principal {
	t.Helper()
	ctx := context.Background()
	var id uuid.UUID
	err := pgx.BeginFunc(ctx, f.DB.Owner, func(tx pgx.Tx) error {
		found, err := identity.FindOrCreate(ctx, tx, identity.NewIdentity{
			Email: uuid.Must(uuid.NewV7()).String() + "@fixture.test", Name: "Fixture member",
		})
		if err != nil {
			return err
		}
		id = found.ID
		_, err = membership.Add(ctx, tx, tenant, id, role, time.Time{})
		return err
	})
	if err != nil {
		t.Fatalf("fixture member: %v", err)
	}
	return token.Principal{IdentityID: id, TenantID: tenant, Role: role}
}

// Response is a recorded answer with its JSON body decoded.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
	// t is the test of the Do that recorded the answer, which Items fails.
	t testing.TB
}

// Str returns the string field key of the body.
func (r Response) Str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// Items returns the "items" array of a list answer. It fails the test when the body has no "items" array or
// an item is not an object, so that a check such as "B's list is empty" cannot pass on an answer of another
// shape (an error, a renamed field).
func (r Response) Items() []map[string]any {
	fail := func(format string, args ...any) {
		if r.t == nil {
			panic(fmt.Sprintf(format, args...))
		}
		r.t.Helper()
		r.t.Fatalf(format, args...)
	}
	raw, ok := r.Body["items"].([]any)
	if !ok {
		fail("list answer (status %d) has no items array: %.500s", r.Status, r.Raw)
		return nil
	}
	out := make([]map[string]any, 0, len(raw))
	for i, it := range raw {
		m, ok := it.(map[string]any)
		if !ok {
			fail("list answer item %d is not an object: %.500s", i, r.Raw)
			return nil
		}
		out = append(out, m)
	}
	return out
}

// Request is one call to a handler. Body is sent as is when it is a string, and JSON-encoded otherwise.
type Request struct {
	Method, Path string
	Bearer       string
	Body         any
	Header       map[string]string
}

// validator holds every exchange of Do to the gateway document, read once per test binary.
var validator = sync.OnceValues(func() (*contract.Validator, error) {
	path, err := contract.FindDocument(".")
	if err != nil {
		return nil, err
	}
	doc, err := contract.ReadDocument(path)
	if err != nil {
		return nil, err
	}
	return contract.NewValidator(doc, service.HealthRoute)
})

// Do sends req to h and records the answer. It fails the test when the exchange departs from the gateway
// document (see contract.Validator.Check): a route, status, header, field or media type the document does not
// declare, or a request it refuses that h accepted.
func Do(t testing.TB, h http.Handler, req Request) Response {
	t.Helper()
	var body []byte
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = j
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	r := httptest.NewRequest(req.Method, req.Path, reader)
	if req.Body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.Bearer != "" {
		r.Header.Set("Authorization", "Bearer "+req.Bearer)
	}
	for k, v := range req.Header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := Response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String(), t: t}
	_ = json.Unmarshal(rec.Body.Bytes(), &res.Body)
	v, err := validator()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	if err := v.Check(r.Context(), contract.Exchange{Request: r, RequestBody: body, Status: rec.Code, Header: rec.Header(),
		ResponseBody: rec.Body.Bytes()}); err != nil {
		t.Errorf("contract: %v", err)
	}
	return res
}

// Expect fails t unless res has status, and returns res for chaining.
func Expect(t testing.TB, res Response, status int) Response {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d; body %.500s", res.Status, status, res.Raw)
	}
	return res
}

// ExpectProblem fails t unless res is a problem+json answer with status and code.
func ExpectProblem(t testing.TB, res Response, status int, code string) {
	t.Helper()
	if res.Status != status || res.Str("code") != code {
		t.Fatalf("got %d %.500s, want %d %s", res.Status, res.Raw, status, code)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
}
