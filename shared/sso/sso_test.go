package sso_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

func fields(err error) []string {
	var errs valid.Errors
	if !errors.As(err, &errs) {
		return nil
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestConnectionValidate(t *testing.T) {
	t.Parallel()
	good := func() sso.Connection {
		return sso.Connection{Enabled: true, Issuer: "https://idp.example.com", ClientID: "client",
			ClientSecret: "secret://projects/p/secrets/s/versions/1", AllowedDomains: []string{" Example.COM "}, DefaultRole: "member"}
	}
	tests := []struct {
		name  string
		edit  func(*sso.Connection)
		local bool
		want  []string
	}{
		{"valid", nil, false, nil},
		{"http issuer", func(c *sso.Connection) { c.Issuer = "http://idp.example.com" }, false, []string{"sso.issuer"}},
		{"http loopback issuer locally", func(c *sso.Connection) { c.Issuer = "http://127.0.0.1:8089/oidc" }, true, nil},
		{"http loopback issuer elsewhere", func(c *sso.Connection) { c.Issuer = "http://127.0.0.1:8089/oidc" }, false, []string{"sso.issuer"}},
		{"issuer with a query", func(c *sso.Connection) { c.Issuer = "https://idp.example.com/?x=1" }, false, []string{"sso.issuer"}},
		{"no client id", func(c *sso.Connection) { c.ClientID = " " }, false, []string{"sso.client_id"}},
		{"plain secret", func(c *sso.Connection) { c.ClientSecret = "hunter2" }, false, []string{"sso.client_secret"}},
		{"plain secret locally", func(c *sso.Connection) { c.ClientSecret = "hunter2" }, true, nil},
		{"no secret", func(c *sso.Connection) { c.ClientSecret = "" }, true, []string{"sso.client_secret"}},
		{"no domains", func(c *sso.Connection) { c.AllowedDomains = nil }, false, []string{"sso.allowed_domains"}},
		{"bad domain", func(c *sso.Connection) { c.AllowedDomains = []string{"example.com", "*.evil"} }, false, []string{"sso.allowed_domains[1]"}},
		{"owner by default", func(c *sso.Connection) { c.DefaultRole = "owner" }, false, []string{"sso.default_role"}},
		{"unknown role", func(c *sso.Connection) { c.DefaultRole = "god" }, false, []string{"sso.default_role"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			if tc.edit != nil {
				tc.edit(&c)
			}
			got := fields(c.Validate(tc.local))
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("failing fields %v, want %v", got, tc.want)
			}
		})
	}
	c := good()
	if err := c.Validate(false); err != nil || c.AllowedDomains[0] != "example.com" {
		t.Fatalf("domains not normalised: %v %v", c.AllowedDomains, err)
	}
	for email, want := range map[string]bool{"a@example.com": true, "a@EXAMPLE.com": true, "a@sub.example.com": false, "a@evilexample.com": false, "example.com": false} {
		if c.AllowsEmail(email) != want {
			t.Errorf("AllowsEmail(%q) = %v, want %v", email, !want, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name string
		cfg  sso.Config
		ok   bool
	}{
		{"empty", sso.Config{}, true},
		{"complete", sso.Config{ReturnURLs: []string{"https://app.example.com", "https://example.com/app/"}, PublicURL: "https://api.example.com", StateKey: key}, true},
		{"url-safe unpadded key", sso.Config{StateKey: base64.RawURLEncoding.EncodeToString(make([]byte, 48))}, true},
		{"return URL not absolute", sso.Config{ReturnURLs: []string{"app.example.com"}}, false},
		{"return URL with a query", sso.Config{ReturnURLs: []string{"https://app.example.com/?a=b"}}, false},
		{"return URL of another scheme", sso.Config{ReturnURLs: []string{"ftp://app.example.com"}}, false},
		{"public URL relative", sso.Config{PublicURL: "/api"}, false},
		{"short key", sso.Config{StateKey: base64.StdEncoding.EncodeToString(make([]byte, 16))}, false},
		{"key not base64", sso.Config{StateKey: "not base64!"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if got := (sso.Config{PublicURL: "https://api.example.com/"}).BaseURL(); got != "https://api.example.com" {
		t.Fatalf("BaseURL = %q", got)
	}
}

func TestReturnPolicy(t *testing.T) {
	t.Parallel()
	p, err := sso.NewReturnPolicy([]string{"https://app.example.com", " https://example.com/portal/ ", ""}, false)
	if err != nil {
		t.Fatal(err)
	}
	local, err := sso.NewReturnPolicy(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	none, err := sso.NewReturnPolicy(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		policy sso.ReturnPolicy
		raw    string
		ok     bool
	}{
		{p, "https://app.example.com", true},
		{p, "https://app.example.com/", true},
		{p, "https://APP.example.com/deep/page?x=1", true},
		{p, "https://example.com/portal", true},
		{p, "https://example.com/portal/done", true},
		{p, "https://example.com/portalx", false},
		{p, "https://example.com/portal/../admin", false},
		{p, "https://example.com/portal/%2e%2e/admin", false},
		{p, "https://example.com/", false},
		{p, "http://app.example.com/", false},
		{p, "https://app.example.com:8443/", false},
		{p, "https://app.example.com.evil.test/", false},
		{p, "https://app.example.com@evil.test/", false},
		{p, "https://evil.test/?https://app.example.com", false},
		{p, "https://app.example.com/#frag", false},
		{p, "//app.example.com/", false},
		{p, "/relative", false},
		{p, "javascript:alert(1)", false},
		{p, "https:\\\\evil.test", false},
		{p, "https://app.example.com/" + strings.Repeat("a", sso.MaxReturnURLLength), false},
		{local, "http://localhost:5173/callback", true},
		{local, "http://127.0.0.1:3000/", true},
		{local, "http://[::1]:3000/", true},
		{local, "https://app.example.com/", false},
		{local, "http://localhost.evil.test/", false},
		{none, "http://localhost:5173/", false},
	}
	for _, tc := range tests {
		if _, err := tc.policy.Check(tc.raw); (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tc.raw, err, tc.ok)
		} else if err != nil && !errors.Is(err, sso.ErrReturnURL) {
			t.Errorf("Check(%q) = %v, want ErrReturnURL", tc.raw, err)
		}
	}
	if _, err := sso.NewReturnPolicy([]string{"not a url"}, false); err == nil {
		t.Fatal("a malformed entry was accepted")
	}
}

func TestState(t *testing.T) {
	t.Parallel()
	key := []byte(strings.Repeat("k", 32))
	g, err := sso.NewStateSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	st := sso.State{ID: sso.RandomToken(16), TenantID: uuid.New(), Nonce: sso.RandomToken(16), Challenge: "challenge",
		ReturnTo: "https://app.example.com/x", Expires: now.Add(sso.StateTTL).Unix()}
	raw, err := g.Sign(st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Open(raw, now)
	if err != nil || got != st {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, st)
	}
	if _, err := g.Open(raw, now.Add(sso.StateTTL)); !errors.Is(err, sso.ErrState) {
		t.Fatalf("expired state: %v", err)
	}
	other, _ := sso.NewStateSigner([]byte(strings.Repeat("o", 32)))
	dot := strings.LastIndexByte(raw, '.')
	forged := func(edit func(*sso.State)) string {
		s := st
		edit(&s)
		data, _ := json.Marshal(s)
		return "s1." + base64.RawURLEncoding.EncodeToString(data) + raw[dot:]
	}
	for name, bad := range map[string]string{
		"empty":              "",
		"another key":        mustSign(t, other, st),
		"payload swapped":    forged(func(s *sso.State) { s.TenantID = uuid.New() }),
		"return URL swapped": forged(func(s *sso.State) { s.ReturnTo = "https://evil.test" }),
		"no signature":       raw[:dot],
		"signature only":     raw[dot:],
		"bad base64":         "s1.!!!" + raw[dot:],
		"other version":      "s2." + raw[3:],
		"huge":               raw + strings.Repeat("A", 5000),
	} {
		if _, err := g.Open(bad, now); !errors.Is(err, sso.ErrState) {
			t.Errorf("%s: Open = %v, want ErrState", name, err)
		}
	}
	// A correctly signed state missing its fields is refused too.
	if _, err := g.Open(mustSign(t, g, sso.State{Expires: now.Add(time.Minute).Unix()}), now); !errors.Is(err, sso.ErrState) {
		t.Fatalf("empty state: %v", err)
	}
	// The longest return URL, even one of characters JSON could escape, fits the state accepted back.
	long := st
	long.ReturnTo = "https://app.example.com/?" + strings.Repeat("&", sso.MaxReturnURLLength-len("https://app.example.com/?"))
	if got, err := g.Open(mustSign(t, g, long), now); err != nil || got != long {
		t.Fatalf("longest return URL: %v", err)
	}
	if _, err := sso.NewStateSigner(make([]byte, 16)); err == nil {
		t.Fatal("a short key was accepted")
	}
	if r := sso.RandomStateSigner(); r == nil || mustSign(t, r, st) == raw {
		t.Fatal("a random signer signed like the fixed key")
	}
	if a, b := sso.RandomToken(16), sso.RandomToken(16); a == b || len(a) != 22 {
		t.Fatal("RandomToken is not random or not 16 bytes")
	}
}

func mustSign(t *testing.T, g *sso.StateSigner, s sso.State) string {
	t.Helper()
	raw, err := g.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// connectionFixture is A's enabled connection in its settings, tenant B without settings, and a third tenant
// whose settings row has no connection.
type connectionFixture struct {
	isolation.Tenants
	tenants *db.Tenants
	empty   uuid.UUID
}

// LoadConnection reads a connection from the tenant's settings, and another tenant sees nothing of it, with
// row-level security and (as the owner) without it.
var _ = isolation.Register(isolation.Case[*connectionFixture]{
	Name:   "SSO connections",
	Tables: []string{"tenant.settings"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *connectionFixture {
		f := &connectionFixture{Tenants: isolation.NewTenants(), tenants: w.DB.Tenants, empty: uuid.New()}
		conn := sso.Connection{Enabled: true, Issuer: "https://idp.example.com", ClientID: "client",
			ClientSecret: "secret://projects/p/secrets/s/versions/1", AllowedDomains: []string{"example.com"}, DefaultRole: "viewer"}
		data, _ := json.Marshal(conn)
		if _, err := d.Owner.Exec(context.Background(), `INSERT INTO tenant.settings (tenant_id, sso) VALUES ($1, $2), ($3, NULL)`, f.Tenant(isolation.A), data, f.empty); err != nil {
			t.Fatal(err)
		}
		return f
	},
	Ops: []isolation.Op[*connectionFixture]{
		{Name: "load", Run: func(ctx context.Context, f *connectionFixture, as isolation.Side) (int, error) {
			return loadConnection(ctx, f.tenants, f.Tenant(as))
		}},
		{Name: "load with settings but no connection", Run: func(ctx context.Context, f *connectionFixture, as isolation.Side) (int, error) {
			return loadConnection(ctx, f.tenants, map[isolation.Side]uuid.UUID{isolation.A: f.Tenant(isolation.A), isolation.B: f.empty}[as])
		}},
	},
})

// loadConnection loads tenant's connection and counts it when it is the fixture's.
func loadConnection(ctx context.Context, tenants *db.Tenants, tenant uuid.UUID) (int, error) {
	got, err := sso.LoadConnection(ctx, tenants, tenant)
	if err != nil {
		return 0, err
	}
	if got.ClientID != "client" || got.DefaultRole != "viewer" || !got.Enabled || got.AllowedDomains[0] != "example.com" {
		return 0, fmt.Errorf("LoadConnection(%s) = %+v", tenant, got)
	}
	return 1, nil
}

// TestIsolation runs the isolation cases of this package.
func TestIsolation(t *testing.T) {
	t.Parallel()
	isolation.Suite(t)
}
