package idempotency_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/idempotency"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

// counter is a creating handler that answers with how many times it ran.
type counter struct {
	runs   atomic.Int32
	status int
	gate   chan struct{}
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.runs.Add(1)
	if c.gate != nil {
		<-c.gate
	}
	w.Header().Set("Location", fmt.Sprintf("/things/%d", n))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(c.status)
	fmt.Fprintf(w, `{"run":%d}`, n)
}

func send(h http.Handler, p *token.Principal, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/things", strings.NewReader(body))
	if key != "" {
		r.Header.Set(idempotency.Header, key)
	}
	if p != nil {
		r = r.WithContext(httpx.WithPrincipal(r.Context(), *p))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestReplay(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	keys := idempotency.New(d.DB.Directory, d.DB.Tenants)
	tenant := uuid.New()
	alice := &token.Principal{IdentityID: uuid.New(), TenantID: tenant, Role: "member"}
	bob := &token.Principal{IdentityID: uuid.New(), TenantID: tenant, Role: "member"}
	other := &token.Principal{IdentityID: alice.IdentityID, TenantID: uuid.New(), Role: "member"}

	for _, who := range []struct {
		name string
		p    *token.Principal
	}{{"signed in", alice}, {"before sign-in", nil}} {
		t.Run(who.name, func(t *testing.T) {
			c := &counter{status: http.StatusCreated}
			h := keys.Handler(c)
			first := send(h, who.p, "k-1", `{"a":1}`)
			again := send(h, who.p, "k-1", `{"a":1}`)
			if first.Code != 201 || again.Code != 201 || again.Body.String() != first.Body.String() ||
				again.Header().Get("Location") != first.Header().Get("Location") || again.Header().Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay: first %d %s, again %d %s %v", first.Code, first.Body, again.Code, again.Body, again.Header())
			}
			if c.runs.Load() != 1 {
				t.Fatalf("handler ran %d times for one key", c.runs.Load())
			}
			reused := send(h, who.p, "k-1", `{"a":2}`)
			if reused.Code != 422 || !strings.Contains(reused.Body.String(), "idempotency_key_reused") {
				t.Fatalf("same key, other body: %d %s", reused.Code, reused.Body)
			}
			send(h, who.p, "", `{"a":1}`)
			send(h, who.p, "", `{"a":1}`)
			if c.runs.Load() != 3 {
				t.Fatalf("requests without a key ran %d times in all, want 3", c.runs.Load())
			}
		})
	}

	t.Run("keys are scoped to the caller and the organization", func(t *testing.T) {
		c := &counter{status: http.StatusCreated}
		h := keys.Handler(c)
		for _, p := range []*token.Principal{alice, bob, other} {
			if w := send(h, p, "shared-key", `{}`); w.Code != 201 || w.Header().Get("Idempotent-Replayed") != "" {
				t.Fatalf("%v: %d replayed=%q; another caller's key must not be replayed", p, w.Code, w.Header().Get("Idempotent-Replayed"))
			}
		}
		if c.runs.Load() != 3 {
			t.Fatalf("ran %d times for three callers", c.runs.Load())
		}
	})

	t.Run("server failures are not kept", func(t *testing.T) {
		c := &counter{status: http.StatusInternalServerError}
		h := keys.Handler(c)
		send(h, alice, "k-500", `{}`)
		c.status = http.StatusCreated
		if w := send(h, alice, "k-500", `{}`); w.Code != 201 || c.runs.Load() != 2 {
			t.Fatalf("retry after a 500: %d after %d runs; want it run again", w.Code, c.runs.Load())
		}
	})

	t.Run("a request in progress holds its key", func(t *testing.T) {
		c := &counter{status: http.StatusCreated, gate: make(chan struct{})}
		h := keys.Handler(c)
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- send(h, alice, "k-slow", `{}`) }()
		for c.runs.Load() == 0 { // the first request holds the key once its handler runs
			time.Sleep(time.Millisecond)
		}
		w := send(h, alice, "k-slow", `{}`)
		close(c.gate)
		if w.Code != 409 || w.Header().Get("Retry-After") == "" {
			t.Fatalf("concurrent retry: %d %s, want 409 with Retry-After", w.Code, w.Body)
		}
		if first := <-done; first.Code != 201 {
			t.Fatalf("first request: %d", first.Code)
		}
	})

	t.Run("malformed keys are refused", func(t *testing.T) {
		h := keys.Handler(&counter{status: 201})
		for _, k := range []string{strings.Repeat("k", 256), "tab\there"} {
			if w := send(h, alice, k, `{}`); w.Code != 400 {
				t.Fatalf("key %q: %d, want 400", k, w.Code)
			}
		}
	})

	t.Run("an abandoned or expired key is taken over", func(t *testing.T) {
		c := &counter{status: http.StatusCreated}
		h := keys.Handler(c)
		send(h, alice, "k-old", `{}`)
		if _, err := d.Owner.Exec(context.Background(), `UPDATE tenant.idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1`, tenant); err != nil {
			t.Fatal(err)
		}
		if w := send(h, alice, "k-old", `{"other":true}`); w.Code != 201 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("expired key: %d replayed=%q", w.Code, w.Header().Get("Idempotent-Replayed"))
		}
	})
}

// keysFixture is a key A's caller used, answered and stored; B's caller is the same identity in tenant B.
type keysFixture struct {
	isolation.Tenants
	h      http.Handler
	caller [2]*token.Principal
}

// A key is replayed only to the organization that stored it, with or without row-level security: the same
// identity, key and body in another organization runs afresh.
var _ = isolation.Register(isolation.Case[*keysFixture]{
	Name:   "idempotency keys",
	Stores: []string{"Keys"},
	Tables: []string{"tenant.idempotency_keys"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *keysFixture {
		f := &keysFixture{Tenants: isolation.NewTenants(), h: idempotency.New(w.DB.Directory, w.DB.Tenants).Handler(&counter{status: http.StatusCreated})}
		identity := uuid.New()
		for _, side := range []isolation.Side{isolation.A, isolation.B} {
			f.caller[side] = &token.Principal{IdentityID: identity, TenantID: f.Tenant(side), Role: "member"}
		}
		if res := send(f.h, f.caller[isolation.A], "shared-key", `{}`); res.Code != http.StatusCreated {
			t.Fatalf("A's first request: %d %s", res.Code, res.Body)
		}
		return f
	},
	Ops: []isolation.Op[*keysFixture]{
		// Run counts replays of A's answer.
		{Name: "replay", Want: isolation.Nothing, Run: func(ctx context.Context, f *keysFixture, as isolation.Side) (int, error) {
			res := send(f.h, f.caller[as], "shared-key", `{}`)
			if res.Code != http.StatusCreated {
				return 0, fmt.Errorf("%d %s", res.Code, res.Body)
			}
			if res.Header().Get("Idempotent-Replayed") == "true" {
				return 1, nil
			}
			return 0, nil
		}},
	},
})
