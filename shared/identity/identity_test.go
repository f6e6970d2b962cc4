package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	long := "a@" + strings.Repeat("b", 314) + ".com" // 320 bytes, the most an address may have
	tests := []struct {
		name   string
		in     string
		want   string // checked only when ok
		wantOK bool
	}{
		{"plain", "ada@example.com", "ada@example.com", true},
		{"upper case", "Ada@Example.COM", "ada@example.com", true},
		{"surrounding spaces", "  ada@example.com \t\r\n", "ada@example.com", true},
		{"plus tag", "Ada+Tag@example.com", "ada+tag@example.com", true},
		{"non-ASCII local part", "ÄDA@example.com", "äda@example.com", true},
		{"320 bytes", long, long, true},
		{"321 bytes", "a@" + strings.Repeat("b", 315) + ".com", "", false},
		{"display name", "Ada <ada@example.com>", "", false},
		{"quoted display name", `"Ada Lovelace" <ada@example.com>`, "", false},
		{"angle brackets only", "<ada@example.com>", "", false},
		{"trailing comment", "ada@example.com (Ada)", "", false},
		{"quoted local part", `"ada lovelace"@example.com`, "", false},
		{"two addresses", "ada@example.com, bob@example.com", "", false},
		{"missing @", "ada.example.com", "", false},
		{"missing local part", "@example.com", "", false},
		{"missing domain", "ada@", "", false},
		{"two @", "ada@b@example.com", "", false},
		{"inner space", "ada lovelace@example.com", "", false},
		{"NUL", "ada\x00@example.com", "", false},
		{"empty", "", "", false},
		{"only spaces", "   ", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := identity.NormalizeEmail(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("NormalizeEmail(%q) ok = %v, want %v (got %q)", tt.in, ok, tt.wantOK, got)
			}
			if ok && got != tt.want {
				t.Fatalf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateCredentials(t *testing.T) {
	t.Parallel()
	const email = "ada@example.com"
	tests := []struct {
		name, prefix, email, password string
		want                          []string // failing fields, in order
	}{
		{"valid", "", email, "twelve chars", nil},
		{"valid, nested", "owner.", email, "twelve chars", nil},
		{"valid email in other case and spaces", "", "  ADA@Example.com ", "twelve chars", nil},
		{"11 characters", "", email, "eleven char", []string{"password"}},
		{"11 characters, nested", "owner.", email, "eleven char", []string{"owner.password"}},
		{"empty password", "owner.", email, "", []string{"owner.password"}},
		{"256 characters", "", email, strings.Repeat("p", 256), nil},
		{"257 characters", "owner.", email, strings.Repeat("p", 257), []string{"owner.password"}},
		// Length counts characters, not bytes.
		{"12 two-byte characters", "", email, strings.Repeat("é", 12), nil},
		{"11 three-byte characters", "", email, strings.Repeat("日", 11), []string{"password"}},
		{"256 four-byte characters", "", email, strings.Repeat("🔑", 256), nil},
		{"bad email", "", "not an email", "twelve chars", []string{"email"}},
		{"display-name email, nested", "owner.", "Ada <ada@example.com>", "twelve chars", []string{"owner.email"}},
		{"empty email and password", "owner.", "", "", []string{"owner.email", "owner.password"}},
		{"bad email and long password", "x.", "@", strings.Repeat("p", 300), []string{"x.email", "x.password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errs valid.Errors
			identity.ValidateCredentials(&errs, tt.prefix, tt.email, tt.password)
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("failing fields = %v, want %v (%v)", got, tt.want, errs)
			}
			if (errs.Err() == nil) != (len(tt.want) == 0) {
				t.Fatalf("Err() = %v with %d failures", errs.Err(), len(tt.want))
			}
		})
	}
}

const refreshTTL = 30 * 24 * time.Hour

// fixture is one test database with the services over it.
type fixture struct {
	d       *dbtest.Database
	ids     *identity.Service
	tenancy *tenancy.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := dbtest.New(t)
	ids := identity.New(d.DB.Directory, cheap, refreshTTL)
	return &fixture{d: d, ids: ids, tenancy: tenancy.New(d.DB.Directory, d.DB.Tenants, ids, slog.New(slog.DiscardHandler))}
}

// signUp creates organization slug with owner email through the public sign-up.
func (f *fixture) signUp(t *testing.T, slug, email, password string) (tenancy.Tenant, identity.Session) {
	t.Helper()
	tn, sess, err := f.tenancy.SignUp(context.Background(), tenancy.SignUpInput{
		Name: "Org " + slug, Slug: slug, Owner: tenancy.Owner{Email: email, Password: password, Name: "Owner of " + slug},
	}, time.Now())
	if err != nil {
		t.Fatalf("sign up %s for %s: %v", slug, email, err)
	}
	return tn, sess
}

// addIdentity inserts an identity as the table owner; a nil password leaves it without one (SSO only).
func (f *fixture) addIdentity(t *testing.T, email string, password *string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	var hash *string
	if password != nil {
		h := identity.HashPassword(*password, cheap)
		hash = &h
	}
	if _, err := f.d.Owner.Exec(context.Background(),
		`INSERT INTO directory.identities (id, email, password_hash) VALUES ($1, $2, $3)`, id, email, hash); err != nil {
		t.Fatalf("insert identity %s: %v", email, err)
	}
	return id
}

func (f *fixture) addMember(t *testing.T, tenant, ident uuid.UUID, role string) {
	t.Helper()
	if _, err := f.d.Owner.Exec(context.Background(),
		`INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, $3)`, tenant, ident, role); err != nil {
		t.Fatalf("insert membership: %v", err)
	}
}

func (f *fixture) setStatus(t *testing.T, tenant uuid.UUID, status string) {
	t.Helper()
	if _, err := f.d.Owner.Exec(context.Background(), `UPDATE directory.tenants SET status = $2 WHERE id = $1`, tenant, status); err != nil {
		t.Fatalf("set status: %v", err)
	}
}

// storedToken is what directory.refresh_tokens and its family hold for one refresh token.
type storedToken struct {
	family, identity, tenant uuid.UUID
	createdAt, expiresAt     time.Time
	used, revoked            bool
	familyTokens             int
}

// lookupToken finds the stored row of raw by its SHA-256, as the refresh flow will.
func (f *fixture) lookupToken(t *testing.T, raw string) storedToken {
	t.Helper()
	sum := sha256.Sum256([]byte(raw))
	var s storedToken
	err := f.d.Owner.QueryRow(context.Background(), `SELECT f.id, f.identity_id, f.tenant_id, t.created_at, t.expires_at,
			t.used_at IS NOT NULL, f.revoked_at IS NOT NULL,
			(SELECT count(*) FROM directory.refresh_tokens o WHERE o.family_id = f.id)
		FROM directory.refresh_tokens t JOIN directory.refresh_token_families f ON f.id = t.family_id
		WHERE t.token_hash = $1`, sum[:]).
		Scan(&s.family, &s.identity, &s.tenant, &s.createdAt, &s.expiresAt, &s.used, &s.revoked, &s.familyTokens)
	if err != nil {
		t.Fatalf("no stored refresh token under the SHA-256 of the session's token: %v", err)
	}
	return s
}

func TestLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)

	const (
		adaPW   = "ada's long password"
		bobPW   = "bob's long password"
		davePW  = "dave's long password"
		erinPW  = "erin's long password"
		dummyPW = "not a password anyone has" // what the service checks unknown emails against
	)
	// ada owns acme and beta (two sign-ups, one identity) and gamma, which is suspended.
	acme, adaSess := f.signUp(t, "acme", "ada@example.com", adaPW)
	beta, _ := f.signUp(t, "beta", "Ada@Example.com", adaPW)
	gamma, _ := f.signUp(t, "gamma", "ada@example.com", adaPW)
	f.setStatus(t, gamma.ID, "suspended")
	ada := adaSess.Principal.IdentityID
	// bob owns only bobco.
	bobco, bobSess := f.signUp(t, "bobco", "bob@example.com", bobPW)
	bob := bobSess.Principal.IdentityID
	// dave is a plain member of acme, added by the owner pool as an invitation would.
	dave := f.addIdentity(t, "dave@example.com", ptr(davePW))
	f.addMember(t, acme.ID, dave, access.Member)
	// erin's only organization is suspended; she is also a viewer of the deleted delta.
	erinco, erinSess := f.signUp(t, "erinco", "erin@example.com", erinPW)
	f.setStatus(t, erinco.ID, "suspended")
	delta, _ := f.signUp(t, "delta", "bob@example.com", bobPW)
	f.addMember(t, delta.ID, erinSess.Principal.IdentityID, access.Viewer)
	f.setStatus(t, delta.ID, "deleted")
	// frank has no password (an SSO-only identity) and belongs to acme.
	frank := f.addIdentity(t, "frank@example.com", nil)
	f.addMember(t, acme.ID, frank, access.Admin)

	tests := []struct {
		name, email, password, slug string
		wantErr                     error
		wantIdentity, wantTenant    uuid.UUID
		wantSlug, wantRole          string
	}{
		{"slug named", "ada@example.com", adaPW, "beta", nil, ada, beta.ID, "beta", access.Owner},
		{"other slug named", "ada@example.com", adaPW, "acme", nil, ada, acme.ID, "acme", access.Owner},
		{"only membership, no slug", "bob@example.com", bobPW, "", nil, bob, bobco.ID, "bobco", access.Owner},
		{"only membership, named", "bob@example.com", bobPW, "bobco", nil, bob, bobco.ID, "bobco", access.Owner},
		{"member role", "dave@example.com", davePW, "", nil, dave, acme.ID, "acme", access.Member},
		{"email in other case and spaces", "  ADA@EXAMPLE.COM ", adaPW, "acme", nil, ada, acme.ID, "acme", access.Owner},

		{"several memberships, no slug", "ada@example.com", adaPW, "", identity.ErrTenantRequired, uuid.Nil, uuid.Nil, "", ""},

		{"wrong password", "ada@example.com", adaPW + "!", "acme", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"wrong password, no slug", "bob@example.com", adaPW, "", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"wrong password, several memberships", "ada@example.com", "nope", "", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"empty password", "ada@example.com", "", "acme", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"unknown email", "nobody@example.com", adaPW, "acme", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"unknown email, dummy password", "nobody@example.com", dummyPW, "", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"display-name email", "Ada <ada@example.com>", adaPW, "acme", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"empty email", "", adaPW, "", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"not a member of slug", "ada@example.com", adaPW, "bobco", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"member of slug elsewhere only", "dave@example.com", davePW, "beta", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"nonexistent slug", "bob@example.com", bobPW, "no-such-org", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"suspended tenant named", "ada@example.com", adaPW, "gamma", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"only tenants suspended or deleted, no slug", "erin@example.com", erinPW, "", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"suspended only tenant named", "erin@example.com", erinPW, "erinco", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"deleted tenant named", "erin@example.com", erinPW, "delta", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"no password set", "frank@example.com", "", "acme", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
		{"no password set, dummy password", "frank@example.com", dummyPW, "acme", identity.ErrInvalidCredentials, uuid.Nil, uuid.Nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Now().UTC().Truncate(time.Second)
			sess, err := f.ids.Login(ctx, tt.email, tt.password, tt.slug, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Login = %+v, %v; want %v", sess, err, tt.wantErr)
				}
				if sess != (identity.Session{}) {
					t.Fatalf("failed login returned a session: %+v", sess)
				}
				return
			}
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			want := token.Principal{IdentityID: tt.wantIdentity, TenantID: tt.wantTenant, Role: tt.wantRole, AMR: identity.AMRPassword}
			if sess.Principal != want || sess.TenantSlug != tt.wantSlug {
				t.Fatalf("session principal %+v in %q, want %+v in %q", sess.Principal, sess.TenantSlug, want, tt.wantSlug)
			}
			if sess.RefreshToken == "" {
				t.Fatal("empty refresh token")
			}
			if wantExp := now.Add(refreshTTL); !sess.RefreshExpiresAt.Equal(wantExp) {
				t.Fatalf("RefreshExpiresAt = %v, want now + TTL = %v", sess.RefreshExpiresAt, wantExp)
			}
			st := f.lookupToken(t, sess.RefreshToken)
			if st.identity != tt.wantIdentity || st.tenant != tt.wantTenant {
				t.Errorf("token family belongs to %s in %s, want %s in %s", st.identity, st.tenant, tt.wantIdentity, tt.wantTenant)
			}
			if !st.expiresAt.Equal(now.Add(refreshTTL)) || !st.createdAt.Equal(now) {
				t.Errorf("stored token created %v expires %v; want %v and %v", st.createdAt, st.expiresAt, now, now.Add(refreshTTL))
			}
			if st.used || st.revoked || st.familyTokens != 1 {
				t.Errorf("stored token used=%v, family revoked=%v with %d tokens; want a fresh family of one", st.used, st.revoked, st.familyTokens)
			}
		})
	}
	t.Run("refused logins leave no session behind", func(t *testing.T) {
		t.Parallel()
		var before, after int
		count := `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1`
		if err := f.d.Owner.QueryRow(ctx, count, erinSess.Principal.IdentityID).Scan(&before); err != nil {
			t.Fatal(err)
		}
		for _, slug := range []string{"", "erinco", "delta"} {
			if _, err := f.ids.Login(ctx, "erin@example.com", erinPW, slug, time.Now()); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("login of erin in %q: %v", slug, err)
			}
		}
		if err := f.d.Owner.QueryRow(ctx, count, erinSess.Principal.IdentityID).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Fatalf("refused logins stored %d token families", after-before)
		}
	})
}

// Every login opens its own family, stores only the token's SHA-256 and never the token.
func TestLoginStoresOnlyTokenHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn, signUp := f.signUp(t, "acme", "ada@example.com", "ada's long password")

	now := time.Now().UTC().Truncate(time.Second)
	var sessions []identity.Session
	for range 2 {
		s, err := f.ids.Login(ctx, "ada@example.com", "ada's long password", "", now)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		sessions = append(sessions, s)
	}
	if sessions[0].RefreshToken == sessions[1].RefreshToken {
		t.Fatal("two logins got the same refresh token")
	}
	families := map[uuid.UUID]bool{f.lookupToken(t, signUp.RefreshToken).family: true}
	for _, s := range sessions {
		st := f.lookupToken(t, s.RefreshToken)
		if families[st.family] {
			t.Fatalf("login reused token family %s", st.family)
		}
		families[st.family] = true
		if st.identity != signUp.Principal.IdentityID || st.tenant != tn.ID {
			t.Fatalf("family of %s in %s, want %s in %s", st.identity, st.tenant, signUp.Principal.IdentityID, tn.ID)
		}
		var raw int
		if err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM directory.refresh_tokens
			WHERE token_hash = convert_to($1, 'UTF8') OR encode(token_hash, 'escape') LIKE '%' || $1 || '%'`, s.RefreshToken).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if raw != 0 {
			t.Fatalf("the raw refresh token is stored")
		}
	}
	var n int
	if err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1 AND tenant_id = $2`,
		signUp.Principal.IdentityID, tn.ID).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d families (err %v), want 3: sign-up and two logins", n, err)
	}
	var hashLen int
	if err := f.d.Owner.QueryRow(ctx, `SELECT min(length(token_hash)) FROM directory.refresh_tokens`).Scan(&hashLen); err != nil || hashLen != sha256.Size {
		t.Fatalf("token hash length %d (err %v), want %d", hashLen, err, sha256.Size)
	}
}

// A sub-second login time still yields a whole-second expiry, as stored.
func TestLoginExpiryTruncatedToSecond(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.signUp(t, "acme", "ada@example.com", "ada's long password")
	now := time.Date(2031, 5, 6, 7, 8, 9, 987654321, time.FixedZone("CEST", 2*3600))
	s, err := f.ids.Login(context.Background(), "ada@example.com", "ada's long password", "acme", now)
	if err != nil {
		t.Fatal(err)
	}
	want := now.Add(refreshTTL).Truncate(time.Second)
	if !s.RefreshExpiresAt.Equal(want) {
		t.Fatalf("RefreshExpiresAt = %v, want %v", s.RefreshExpiresAt, want)
	}
	if st := f.lookupToken(t, s.RefreshToken); !st.expiresAt.Equal(want) {
		t.Fatalf("stored expiry %v, want %v", st.expiresAt, want)
	}
}

func TestSessionTokens(t *testing.T) {
	t.Parallel()
	keys, err := token.GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	other, err := token.GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	const iss, aud = "https://auth.hyperscale.test", "hyperscale"
	p := token.Principal{IdentityID: uuid.Must(uuid.NewV7()), TenantID: uuid.Must(uuid.NewV7()), Role: access.Admin}
	sess := identity.Session{Principal: p, ID: uuid.Must(uuid.NewV7()), MembershipVersion: 3, TenantSlug: "acme", RefreshToken: "refresh-me"}
	tests := []struct {
		name    string
		ttl     time.Duration
		now     time.Time
		session identity.Session
		wantErr bool
	}{
		{"15 minutes", 15 * time.Minute, time.Now(), sess, false},
		{"one hour on a whole second", time.Hour, time.Now().Truncate(time.Second), sess, false},
		{"five minutes at a sub-second instant", 5 * time.Minute, time.Date(2030, 1, 2, 3, 4, 5, 999_999_999, time.UTC), sess, false},
		{"session without principal", 15 * time.Minute, time.Now(), identity.Session{RefreshToken: "x"}, true},
		{"session without id", 15 * time.Minute, time.Now(), identity.Session{Principal: p, MembershipVersion: 3, RefreshToken: "x"}, true},
		{"session without membership version", 15 * time.Minute, time.Now(), identity.Session{Principal: p, ID: uuid.New(), RefreshToken: "x"}, true},
		{"issuer with no lifetime", 0, time.Now(), sess, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := tt.session.Tokens(token.NewIssuer(keys, iss, aud, tt.ttl), tt.now)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Tokens = %+v, want an error", tok)
				}
				return
			}
			if err != nil {
				t.Fatalf("Tokens: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != tt.session.RefreshToken || tok.AccessToken == "" {
				t.Fatalf("tokens %+v; want a Bearer access token and the session's refresh token", tok)
			}
			if want := int64(tt.ttl / time.Second); tok.ExpiresIn != want {
				t.Fatalf("expires_in = %d, want %d", tok.ExpiresIn, want)
			}
			got, gotSess, err := token.NewVerifier(keys, iss, aud).VerifySession(tok.AccessToken, tt.now)
			wantSess := token.Session{ID: tt.session.ID, MembershipVersion: tt.session.MembershipVersion}
			if err != nil || got != tt.session.Principal || gotSess != wantSess {
				t.Fatalf("Verify = %+v, %+v, %v; want %+v, %+v", got, gotSess, err, tt.session.Principal, wantSess)
			}
			if _, err := token.NewVerifier(keys, iss, aud).Verify(tok.AccessToken, tt.now.Add(tt.ttl+token.Leeway+time.Second)); !errors.Is(err, token.ErrExpired) {
				t.Fatalf("Verify after expires_in: %v, want expired", err)
			}
			if _, err := token.NewVerifier(other, iss, aud).Verify(tok.AccessToken, tt.now); !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("Verify with another key set: %v, want invalid", err)
			}
		})
	}
	t.Run("nil issuer", func(t *testing.T) {
		t.Parallel()
		tok, err := sess.Tokens(nil, time.Now())
		if err == nil || tok != (identity.Tokens{}) {
			t.Fatalf("Tokens(nil) = %+v, %v; want an error and no tokens", tok, err)
		}
	})
	t.Run("verify-only key set", func(t *testing.T) {
		t.Parallel()
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := token.EncodePublicPEM(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		verifyOnly, err := token.ParseKeySet("", pub)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sess.Tokens(token.NewIssuer(verifyOnly, iss, aud, time.Minute), time.Now()); err == nil {
			t.Fatal("Tokens with a key set that cannot sign: want an error")
		}
	})
}

// Tokens minted for a real login carry that login's principal.
func TestLoginSessionTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn, signUp := f.signUp(t, "acme", "ada@example.com", "ada's long password")
	keys, err := token.GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s, err := f.ids.Login(context.Background(), "ada@example.com", "ada's long password", "", now)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Tokens(token.NewIssuer(keys, "iss", "aud", 10*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := token.NewVerifier(keys, "iss", "aud").Verify(tok.AccessToken, now)
	want := token.Principal{IdentityID: signUp.Principal.IdentityID, TenantID: tn.ID, Role: access.Owner, AMR: identity.AMRPassword}
	if err != nil || p != want {
		t.Fatalf("Verify = %+v, %v; want %+v", p, err, want)
	}
	if tok.RefreshToken != s.RefreshToken || tok.ExpiresIn != 600 {
		t.Fatalf("tokens %+v; want the login's refresh token and expires_in 600", tok)
	}
}

func ptr[T any](v T) *T { return &v }
