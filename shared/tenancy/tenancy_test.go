package tenancy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var cheap = identity.Params{Memory: 64, Time: 1, Threads: 1}

const refreshTTL = 7 * 24 * time.Hour

func validInput() tenancy.SignUpInput {
	return tenancy.SignUpInput{
		Name: "Acme Inc",
		Slug: "acme",
		Owner: tenancy.Owner{
			Email:    "ada@example.com",
			Password: "a long enough password",
			Name:     "Ada Lovelace",
		},
	}
}

func TestSignUpInputValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*tenancy.SignUpInput)
		want   []string // failing fields, without repeats
	}{
		{"valid", func(*tenancy.SignUpInput) {}, nil},
		{"owner name optional", func(in *tenancy.SignUpInput) { in.Owner.Name = "" }, nil},

		{"slug of 3", func(in *tenancy.SignUpInput) { in.Slug = "abc" }, nil},
		{"slug of 63", func(in *tenancy.SignUpInput) { in.Slug = strings.Repeat("a", 63) }, nil},
		{"slug with digits and inner dashes", func(in *tenancy.SignUpInput) { in.Slug = "0-acme-9" }, nil},
		{"slug all digits", func(in *tenancy.SignUpInput) { in.Slug = "123" }, nil},
		{"slug with surrounding spaces", func(in *tenancy.SignUpInput) { in.Slug = "  acme \t" }, nil},
		{"slug containing a reserved word", func(in *tenancy.SignUpInput) { in.Slug = "admin-team" }, nil},
		{"slug empty", func(in *tenancy.SignUpInput) { in.Slug = "" }, []string{"slug"}},
		{"slug of 2", func(in *tenancy.SignUpInput) { in.Slug = "ab" }, []string{"slug"}},
		{"slug of 1", func(in *tenancy.SignUpInput) { in.Slug = "a" }, []string{"slug"}},
		{"slug of 64", func(in *tenancy.SignUpInput) { in.Slug = strings.Repeat("a", 64) }, []string{"slug"}},
		{"slug upper case", func(in *tenancy.SignUpInput) { in.Slug = "Acme" }, []string{"slug"}},
		{"slug leading dash", func(in *tenancy.SignUpInput) { in.Slug = "-acme" }, []string{"slug"}},
		{"slug trailing dash", func(in *tenancy.SignUpInput) { in.Slug = "acme-" }, []string{"slug"}},
		{"slug double dash", func(in *tenancy.SignUpInput) { in.Slug = "ac--me" }, []string{"slug"}},
		{"slug underscore", func(in *tenancy.SignUpInput) { in.Slug = "ac_me" }, []string{"slug"}},
		{"slug dot", func(in *tenancy.SignUpInput) { in.Slug = "acme.io" }, []string{"slug"}},
		{"slug inner space", func(in *tenancy.SignUpInput) { in.Slug = "ac me" }, []string{"slug"}},
		{"slug non-ASCII", func(in *tenancy.SignUpInput) { in.Slug = "acmé" }, []string{"slug"}},
		{"slug with newline inside", func(in *tenancy.SignUpInput) { in.Slug = "acme\nx" }, []string{"slug"}},
		{"slug NUL", func(in *tenancy.SignUpInput) { in.Slug = "ac\x00me" }, []string{"slug"}},
		{"slug reserved admin", func(in *tenancy.SignUpInput) { in.Slug = "admin" }, []string{"slug"}},
		{"slug reserved api", func(in *tenancy.SignUpInput) { in.Slug = "api" }, []string{"slug"}},
		{"slug reserved www", func(in *tenancy.SignUpInput) { in.Slug = "www" }, []string{"slug"}},
		{"slug reserved with spaces", func(in *tenancy.SignUpInput) { in.Slug = " login " }, []string{"slug"}},

		{"name of 200", func(in *tenancy.SignUpInput) { in.Name = strings.Repeat("n", 200) }, nil},
		{"name of 200 multi-byte characters", func(in *tenancy.SignUpInput) { in.Name = strings.Repeat("ñ", 200) }, nil},
		{"name empty", func(in *tenancy.SignUpInput) { in.Name = "" }, []string{"name"}},
		{"name only spaces", func(in *tenancy.SignUpInput) { in.Name = " \t\n " }, []string{"name"}},
		{"name of 201", func(in *tenancy.SignUpInput) { in.Name = strings.Repeat("n", 201) }, []string{"name"}},
		{"name NUL", func(in *tenancy.SignUpInput) { in.Name = "Ac\x00me" }, []string{"name"}},
		{"owner name of 200", func(in *tenancy.SignUpInput) { in.Owner.Name = strings.Repeat("o", 200) }, nil},
		{"owner name of 201", func(in *tenancy.SignUpInput) { in.Owner.Name = strings.Repeat("o", 201) }, []string{"owner.name"}},
		{"owner name NUL", func(in *tenancy.SignUpInput) { in.Owner.Name = "Ada\x00" }, []string{"owner.name"}},

		{"owner email bad", func(in *tenancy.SignUpInput) { in.Owner.Email = "ada" }, []string{"owner.email"}},
		{"owner email display name", func(in *tenancy.SignUpInput) { in.Owner.Email = "Ada <ada@example.com>" }, []string{"owner.email"}},
		{"owner email NUL", func(in *tenancy.SignUpInput) { in.Owner.Email = "ada\x00@example.com" }, []string{"owner.email"}},
		{"owner email empty", func(in *tenancy.SignUpInput) { in.Owner.Email = "" }, []string{"owner.email"}},
		{"owner password short", func(in *tenancy.SignUpInput) { in.Owner.Password = "short" }, []string{"owner.password"}},
		{"owner password long", func(in *tenancy.SignUpInput) { in.Owner.Password = strings.Repeat("p", 257) }, []string{"owner.password"}},
		{"owner password NUL", func(in *tenancy.SignUpInput) { in.Owner.Password = "a long enough\x00password" }, []string{"owner.password"}},

		{"everything wrong", func(in *tenancy.SignUpInput) {
			*in = tenancy.SignUpInput{Name: "", Slug: "Admin!", Owner: tenancy.Owner{Email: "@", Password: "x", Name: strings.Repeat("o", 201)}}
		}, []string{"name", "owner.email", "owner.name", "owner.password", "slug"}},
		{"empty input", func(in *tenancy.SignUpInput) { *in = tenancy.SignUpInput{} }, []string{"name", "owner.email", "owner.password", "slug"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := validInput()
			tt.modify(&in)
			err := in.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", in, err)
				}
				return
			}
			var ve valid.Errors
			if !errors.As(err, &ve) {
				t.Fatalf("Validate(%+v) = %v, want valid.Errors", in, err)
			}
			var got []string
			for _, fe := range ve {
				if fe.Message == "" {
					t.Errorf("field %s has no message", fe.Field)
				}
				got = append(got, fe.Field)
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("failing fields = %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

func TestSignUpInputValidateNormalises(t *testing.T) {
	t.Parallel()
	in := tenancy.SignUpInput{Name: "  Acme Inc \n", Slug: "\tacme ", Owner: tenancy.Owner{Email: "ada@example.com", Password: "  spaces are kept  ", Name: " Ada "}}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	want := tenancy.SignUpInput{Name: "Acme Inc", Slug: "acme", Owner: tenancy.Owner{Email: "ada@example.com", Password: "  spaces are kept  ", Name: "Ada"}}
	if in != want {
		t.Fatalf("normalised to %+v, want %+v", in, want)
	}
}

// logBuffer collects what the service logs, so a test can tell that no error was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	d    *dbtest.Database
	ids  *identity.Service
	svc  *tenancy.Service
	logs *logBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := dbtest.New(t)
	f := &fixture{d: d, ids: identity.New(d.DB.Directory, cheap, refreshTTL), logs: &logBuffer{}}
	f.svc = tenancy.New(d.DB.Directory, d.DB.Tenants, f.ids, slog.New(slog.NewTextHandler(f.logs, nil)))
	t.Cleanup(func() {
		if s := f.logs.String(); strings.Contains(s, "level=ERROR") {
			t.Errorf("the service logged an error:\n%s", s)
		}
	})
	return f
}

func input(slug, email, password string) tenancy.SignUpInput {
	return tenancy.SignUpInput{Name: "Org " + slug, Slug: slug, Owner: tenancy.Owner{Email: email, Password: password, Name: "Owner " + slug}}
}

func (f *fixture) mustSignUp(t *testing.T, in tenancy.SignUpInput) (tenancy.Tenant, identity.Session) {
	t.Helper()
	tn, sess, err := f.svc.SignUp(context.Background(), in, time.Now())
	if err != nil {
		t.Fatalf("sign up %s: %v", in.Slug, err)
	}
	return tn, sess
}

// count runs a count(*) query as the table owner, which sees every tenant's rows.
func count(t *testing.T, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestSignUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	in := tenancy.SignUpInput{Name: " Acme Inc ", Slug: " acme ", Owner: tenancy.Owner{Email: " Ada@Example.COM ", Password: "a long enough password", Name: " Ada "}}

	tn, sess, err := f.svc.SignUp(ctx, in, now)
	if err != nil {
		t.Fatalf("SignUp: %v", err)
	}
	if tn.ID.Version() != 7 || tn.Slug != "acme" || tn.Name != "Acme Inc" || tn.Status != "active" || tn.Plan != "free" || tn.CreatedAt.IsZero() {
		t.Fatalf("tenant %+v; want a UUIDv7 id, the trimmed slug and name, active, free", tn)
	}

	// The directory: tenant, identity and the owner's membership.
	var slug, name, status, plan, placement string
	if err := f.d.Owner.QueryRow(ctx, `SELECT slug, name, status, plan, placement FROM directory.tenants WHERE id = $1`, tn.ID).
		Scan(&slug, &name, &status, &plan, &placement); err != nil {
		t.Fatalf("tenant row: %v", err)
	}
	if slug != "acme" || name != "Acme Inc" || status != "active" || plan != "free" || placement != "default" {
		t.Fatalf("tenant row %s %q %s %s %s", slug, name, status, plan, placement)
	}
	var ident uuid.UUID
	var email, ownerName, hash string
	if err := f.d.Owner.QueryRow(ctx, `SELECT id, email, name, password_hash FROM directory.identities`).Scan(&ident, &email, &ownerName, &hash); err != nil {
		t.Fatalf("the one identity row: %v", err)
	}
	if ident.Version() != 7 || email != "ada@example.com" || ownerName != "Ada" {
		t.Fatalf("identity %s %q %q; want a UUIDv7 id, the normalised email and trimmed name", ident, email, ownerName)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("password hash %q, want argon2id with the service's parameters", hash)
	}
	if ok, err := identity.CheckPassword("a long enough password", hash); err != nil || !ok {
		t.Fatalf("stored hash does not verify the password: %v, %v", ok, err)
	}
	var role string
	if err := f.d.Owner.QueryRow(ctx, `SELECT role FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`, tn.ID, ident).Scan(&role); err != nil || role != access.Owner {
		t.Fatalf("membership role %q (err %v), want owner", role, err)
	}
	if n := count(t, f.d.Owner, `SELECT count(*) FROM directory.memberships`); n != 1 {
		t.Fatalf("%d memberships, want 1", n)
	}

	// The owner's first session.
	want := token.Principal{IdentityID: ident, TenantID: tn.ID, Role: access.Owner, AMR: identity.AMRPassword}
	if sess.Principal != want || sess.TenantSlug != "acme" || sess.RefreshToken == "" || !sess.RefreshExpiresAt.Equal(now.Add(refreshTTL)) {
		t.Fatalf("session %+v; want %+v in acme with a refresh token expiring at %v", sess, want, now.Add(refreshTTL))
	}
	sum := sha256.Sum256([]byte(sess.RefreshToken))
	var famIdentity, famTenant uuid.UUID
	var expires time.Time
	if err := f.d.Owner.QueryRow(ctx, `SELECT f.identity_id, f.tenant_id, t.expires_at FROM directory.refresh_tokens t
		JOIN directory.refresh_token_families f ON f.id = t.family_id WHERE t.token_hash = $1`, sum[:]).Scan(&famIdentity, &famTenant, &expires); err != nil {
		t.Fatalf("refresh token stored under its SHA-256: %v", err)
	}
	if famIdentity != ident || famTenant != tn.ID || !expires.Equal(now.Add(refreshTTL)) {
		t.Fatalf("refresh token family %s/%s expiring %v", famIdentity, famTenant, expires)
	}

	// The tenant store: one activity row and one tenant.created event, under the tenant's id.
	var (
		actor, entity         uuid.UUID
		entityType, action    string
		changes               map[string]map[string]any
		evType                string
		evData                pubsub.TenantCreated
		evPublished           bool
		activityTenant        uuid.UUID
		outboxTenant, evID    uuid.UUID
		activityN, outboxN    int
		changesRaw, evDataRaw []byte
	)
	if activityN = count(t, f.d.Owner, `SELECT count(*) FROM tenant.activity`); activityN != 1 {
		t.Fatalf("%d activity rows, want 1", activityN)
	}
	if outboxN = count(t, f.d.Owner, `SELECT count(*) FROM tenant.outbox`); outboxN != 1 {
		t.Fatalf("%d outbox rows, want 1", outboxN)
	}
	if err := f.d.Owner.QueryRow(ctx, `SELECT tenant_id, actor_id, entity_type, entity_id, action, changes FROM tenant.activity`).
		Scan(&activityTenant, &actor, &entityType, &entity, &action, &changesRaw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(changesRaw, &changes); err != nil {
		t.Fatal(err)
	}
	if activityTenant != tn.ID || actor != ident || entityType != "tenant" || entity != tn.ID || action != "created" ||
		changes["name"]["new"] != "Acme Inc" || changes["slug"]["new"] != "acme" || len(changes) != 2 {
		t.Fatalf("activity %s actor %s: %s %s %s %s", activityTenant, actor, entityType, entity, action, changesRaw)
	}
	if err := f.d.Owner.QueryRow(ctx, `SELECT tenant_id, id, type, data, published_at IS NOT NULL FROM tenant.outbox`).
		Scan(&outboxTenant, &evID, &evType, &evDataRaw, &evPublished); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(evDataRaw, &evData); err != nil {
		t.Fatal(err)
	}
	wantEv := pubsub.TenantCreated{TenantID: tn.ID, Slug: "acme", Name: "Acme Inc", OwnerID: ident}
	if outboxTenant != tn.ID || evType != pubsub.TypeTenantCreated || evData != wantEv || evPublished || evID.Version() != 7 {
		t.Fatalf("outbox row %s %s %s %s published=%v; want %+v unpublished", outboxTenant, evID, evType, evDataRaw, evPublished, wantEv)
	}

	// The application role sees both rows through the tenant's own entry point.
	err = f.d.DB.Tenants.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
		var a, o int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenant.activity), (SELECT count(*) FROM tenant.outbox)`).Scan(&a, &o); err != nil {
			return err
		}
		if a != 1 || o != 1 {
			return fmt.Errorf("tenant sees %d activity and %d outbox rows, want 1 and 1", a, o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The owner can log in with what they signed up with.
	if _, err := f.ids.LoginFrom(ctx, "", "ada@example.com", "a long enough password", "acme", time.Now()); err != nil {
		t.Fatalf("login after sign-up: %v", err)
	}
}

func TestSignUpRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const adaPW = "ada's long password"
	first, adaSess := f.mustSignUp(t, input("acme", "ada@example.com", adaPW))
	// carol exists without a password (an SSO-only identity).
	if _, err := f.d.Owner.Exec(ctx, `INSERT INTO directory.identities (id, email) VALUES ($1, 'carol@example.com')`, uuid.Must(uuid.NewV7())); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		in      tenancy.SignUpInput
		wantErr error
		// newEmail is an address the attempt would have created an identity for.
		newEmail string
	}{
		{"slug taken, new email", input("acme", "bob@example.com", "bob's long password"), tenancy.ErrSlugTaken, "bob@example.com"},
		{"slug taken, same owner", input("acme", "ada@example.com", adaPW), tenancy.ErrSlugTaken, ""},
		{"slug taken, spaces around", input(" acme ", "erin@example.com", "erin's long password"), tenancy.ErrSlugTaken, "erin@example.com"},
		{"existing email, wrong password", input("beta", "ada@example.com", "not ada's password"), identity.ErrInvalidCredentials, ""},
		{"existing email in other case, wrong password", input("gamma", "ADA@example.com", "not ada's password"), identity.ErrInvalidCredentials, ""},
		{"existing identity without password", input("delta", "carol@example.com", "carol's long password"), identity.ErrInvalidCredentials, ""},
		// A taken slug is refused before the email is looked at, so it says nothing about the email.
		{"slug taken and wrong password", input("acme", "ada@example.com", "not ada's password"), tenancy.ErrSlugTaken, ""},
		{"invalid input", input("Bad Slug", "dave@example.com", "dave's long password"), valid.Errors{}, "dave@example.com"},
		{"reserved slug", input("admin", "dave@example.com", "dave's long password"), valid.Errors{}, "dave@example.com"},
	}
	// The group returns once every parallel attempt has finished, so the totals below see all of them.
	t.Run("attempts", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tn, sess, err := f.svc.SignUp(ctx, tt.in, time.Now())
				if ve, ok := tt.wantErr.(valid.Errors); ok {
					if !errors.As(err, &ve) {
						t.Fatalf("SignUp = %v, want valid.Errors", err)
					}
				} else if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SignUp = %v, want %v", err, tt.wantErr)
				}
				if tn != (tenancy.Tenant{}) || sess != (identity.Session{}) {
					t.Fatalf("refused sign-up returned %+v, %+v", tn, sess)
				}
				if tt.newEmail != "" {
					if n := count(t, f.d.Owner, `SELECT count(*) FROM directory.identities WHERE email = $1`, tt.newEmail); n != 0 {
						t.Fatalf("refused sign-up left an identity for %s", tt.newEmail)
					}
				}
				if slug := strings.TrimSpace(tt.in.Slug); slug != "acme" {
					if n := count(t, f.d.Owner, `SELECT count(*) FROM directory.tenants WHERE slug = $1`, slug); n != 0 {
						t.Fatalf("refused sign-up stored tenant %s", slug)
					}
				}
			})
		}
	})
	checks := []struct {
		query string
		args  []any
		want  int
	}{
		{`SELECT count(*) FROM directory.tenants`, nil, 1},
		{`SELECT count(*) FROM directory.identities`, nil, 2}, // ada and carol
		{`SELECT count(*) FROM directory.memberships`, nil, 1},
		{`SELECT count(*) FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2 AND role = 'owner'`, []any{first.ID, adaSess.Principal.IdentityID}, 1},
		{`SELECT count(*) FROM directory.refresh_token_families`, nil, 1},
		{`SELECT count(*) FROM directory.refresh_tokens`, nil, 1},
		{`SELECT count(*) FROM tenant.activity`, nil, 1},
		{`SELECT count(*) FROM tenant.outbox`, nil, 1},
		{`SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1`, []any{first.ID}, 1},
	}
	for _, c := range checks {
		if n := count(t, f.d.Owner, c.query, c.args...); n != c.want {
			t.Errorf("after the refused sign-ups %s = %d, want %d", c.query, n, c.want)
		}
	}
}

func TestSignUpExistingIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const pw = "ada's long password"
	acme, first := f.mustSignUp(t, tenancy.SignUpInput{Name: "Acme", Slug: "acme", Owner: tenancy.Owner{Email: "ada@example.com", Password: pw, Name: "Ada"}})
	// The second sign-up types the email differently and gives another name; the identity stays as it was.
	beta, second := f.mustSignUp(t, tenancy.SignUpInput{Name: "Beta", Slug: "beta", Owner: tenancy.Owner{Email: " ADA@Example.com", Password: pw, Name: "Someone Else"}})

	if second.Principal.IdentityID != first.Principal.IdentityID {
		t.Fatalf("second organization got identity %s, want the same %s", second.Principal.IdentityID, first.Principal.IdentityID)
	}
	if second.Principal.TenantID != beta.ID || second.Principal.Role != access.Owner || second.TenantSlug != "beta" || beta.ID == acme.ID {
		t.Fatalf("second session %+v, want owner of beta %s", second, beta.ID)
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("the two sign-ups share a refresh token")
	}
	var name, hash string
	if err := f.d.Owner.QueryRow(ctx, `SELECT name, password_hash FROM directory.identities`).Scan(&name, &hash); err != nil {
		t.Fatalf("the one identity: %v", err)
	}
	if name != "Ada" {
		t.Fatalf("identity name %q, want the first sign-up's %q", name, "Ada")
	}
	rows, err := f.d.Owner.Query(ctx, `SELECT t.slug, m.role FROM directory.memberships m JOIN directory.tenants t ON t.id = m.tenant_id
		WHERE m.identity_id = $1 ORDER BY t.slug`, first.Principal.IdentityID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var slug, role string
		if err := rows.Scan(&slug, &role); err != nil {
			t.Fatal(err)
		}
		got = append(got, slug+":"+role)
	}
	if rows.Err() != nil || strings.Join(got, ",") != "acme:owner,beta:owner" {
		t.Fatalf("memberships %v (err %v), want owner of acme and beta", got, rows.Err())
	}
	// Each organization has its own tenant.created event.
	if n := count(t, f.d.Owner, `SELECT count(DISTINCT tenant_id) FROM tenant.outbox WHERE type = 'tenant.created'`); n != 2 {
		t.Fatalf("tenant.created events for %d tenants, want 2", n)
	}
	// With two organizations, login must name one.
	if _, err := f.ids.LoginFrom(ctx, "", "ada@example.com", pw, "", time.Now()); !errors.Is(err, identity.ErrTenantRequired) {
		t.Fatalf("login without slug: %v, want ErrTenantRequired", err)
	}
}

func TestSignUpConcurrentSameSlug(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = f.svc.SignUp(context.Background(), input("acme", fmt.Sprintf("owner%d@example.com", i), "a long enough password"), time.Now())
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, tenancy.ErrSlugTaken):
			t.Errorf("sign-up %d: %v, want nil or ErrSlugTaken", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d sign-ups won the slug, want 1", won)
	}
	for _, q := range []string{
		`SELECT count(*) FROM directory.tenants`, `SELECT count(*) FROM directory.identities`,
		`SELECT count(*) FROM directory.memberships`, `SELECT count(*) FROM tenant.outbox`,
	} {
		if got := count(t, f.d.Owner, q); got != 1 {
			t.Errorf("%s = %d, want 1", q, got)
		}
	}
}

// Another tenant sees nothing of a tenant's sign-up: row-level security alone stands between them, since the
// queries below carry no tenant filter.
func TestSignUpTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a, _ := f.mustSignUp(t, input("alpha", "ada@example.com", "ada's long password"))
	b, _ := f.mustSignUp(t, input("bravo", "bob@example.com", "bob's long password"))
	if n := count(t, f.d.Owner, `SELECT count(*) FROM tenant.outbox`); n != 2 {
		t.Fatalf("owner sees %d outbox rows, want 2", n)
	}

	tests := []struct {
		name          string
		in, other     uuid.UUID
		wantOwn       int
		wantOtherSlug string
	}{
		{"B sees none of A", b.ID, a.ID, 1, "alpha"},
		{"A sees none of B", a.ID, b.ID, 1, "bravo"},
		{"a tenant with no rows sees nothing", uuid.Must(uuid.NewV7()), a.ID, 0, "alpha"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := f.d.DB.Tenants.InTenant(ctx, tt.in, func(tx pgx.Tx) error {
				var outbox, activity, ownOutbox, ownActivity, otherEvents, otherActivity, mentions int
				err := tx.QueryRow(ctx, `SELECT
						(SELECT count(*) FROM tenant.outbox),
						(SELECT count(*) FROM tenant.activity),
						(SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type = 'tenant.created' AND data->>'tenant_id' = $1::text),
						(SELECT count(*) FROM tenant.activity WHERE tenant_id = $1 AND entity_type = 'tenant' AND entity_id = $1),
						(SELECT count(*) FROM tenant.outbox WHERE tenant_id = $2),
						(SELECT count(*) FROM tenant.activity WHERE tenant_id = $2 OR entity_id = $2),
						(SELECT count(*) FROM tenant.outbox WHERE data->>'slug' = $3 OR data->>'tenant_id' = $2::text)`,
					tt.in, tt.other, tt.wantOtherSlug).Scan(&outbox, &activity, &ownOutbox, &ownActivity, &otherEvents, &otherActivity, &mentions)
				if err != nil {
					return err
				}
				if outbox != tt.wantOwn || activity != tt.wantOwn || ownOutbox != tt.wantOwn || ownActivity != tt.wantOwn {
					return fmt.Errorf("sees %d outbox and %d activity rows (own: %d, %d), want %d of each, all its own",
						outbox, activity, ownOutbox, ownActivity, tt.wantOwn)
				}
				if otherEvents != 0 || otherActivity != 0 || mentions != 0 {
					return fmt.Errorf("sees the other tenant's rows: %d events, %d activity rows, %d mentions", otherEvents, otherActivity, mentions)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// failingResolver stands for a tenant store that cannot be reached.
type failingResolver struct{}

func (failingResolver) Backend(context.Context, uuid.UUID) (*pgxpool.Pool, error) {
	return nil, errors.New("tenant store unreachable")
}

// The directory commit decides the sign-up; a failed tenant-store write afterwards is logged, not undone.
func TestSignUpTenantStoreFailureIsLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	ids := identity.New(d.DB.Directory, cheap, refreshTTL)
	logs := &logBuffer{}
	svc := tenancy.New(d.DB.Directory, db.NewTenants(failingResolver{}), ids, slog.New(slog.NewTextHandler(logs, nil)))

	tn, sess, err := svc.SignUp(ctx, input("acme", "ada@example.com", "ada's long password"), time.Now())
	if err != nil {
		t.Fatalf("SignUp: %v, want success despite the tenant store", err)
	}
	if sess.Principal.TenantID != tn.ID || sess.RefreshToken == "" {
		t.Fatalf("session %+v for tenant %s", sess, tn.ID)
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM directory.tenants WHERE id = $1`, tn.ID); n != 1 {
		t.Fatal("the tenant was not kept")
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox`); n != 0 {
		t.Fatalf("%d outbox rows, want none", n)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, tn.ID.String()) || !strings.Contains(out, "tenant store unreachable") {
		t.Fatalf("log %q; want an error naming the tenant and the cause", out)
	}
}
