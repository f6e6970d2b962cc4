package main

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/jackc/pgx/v5"
)

func TestLocalDefaults(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join("/repo", ".dev", "token-signing-key.pem")
	const origins = "http://localhost:5173,http://127.0.0.1:5173"
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string // the variables afterwards that the test looks at
	}{
		{"nothing set", map[string]string{},
			map[string]string{"LOG_FORMAT": "text", "TOKEN_LOCAL_KEY_FILE": keyFile, "CORS_ALLOWED_ORIGINS": origins}},
		{"SSO return URLs add their origins", map[string]string{"SSO_RETURN_URLS": "http://localhost:5173/app, https://Dev.example.test:8443/done,not a url"},
			map[string]string{"CORS_ALLOWED_ORIGINS": origins + ",https://dev.example.test:8443"}},
		{"the developer's own origins stay", map[string]string{"CORS_ALLOWED_ORIGINS": ""},
			map[string]string{"CORS_ALLOWED_ORIGINS": ""}},
		{"ENV=local", map[string]string{"ENV": "local"},
			map[string]string{"LOG_FORMAT": "text", "TOKEN_LOCAL_KEY_FILE": keyFile}},
		{"the developer's own choices stay", map[string]string{"LOG_FORMAT": "json", "TOKEN_LOCAL_KEY_FILE": ""},
			map[string]string{"LOG_FORMAT": "json", "TOKEN_LOCAL_KEY_FILE": ""}},
		{"configured keys: no key file", map[string]string{"TOKEN_SIGNING_KEYS": "pem"},
			map[string]string{"LOG_FORMAT": "text", "TOKEN_LOCAL_KEY_FILE": "<unset>"}},
		{"verify-only keys: no key file", map[string]string{"TOKEN_PUBLIC_KEYS": "pem"},
			map[string]string{"LOG_FORMAT": "text", "TOKEN_LOCAL_KEY_FILE": "<unset>"}},
		{"not local: nothing", map[string]string{"ENV": "test"},
			map[string]string{"LOG_FORMAT": "<unset>", "TOKEN_LOCAL_KEY_FILE": "<unset>", "CORS_ALLOWED_ORIGINS": "<unset>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			if _, err := localDefaults(lookup, func(k, v string) error { env[k] = v; return nil }, "/repo"); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				got, ok := env[k]
				if !ok {
					got = "<unset>"
				}
				if got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ host, port, want string }{
		{"", "8080", "127.0.0.1:8080"},
		{"0.0.0.0", "18080", "0.0.0.0:18080"},
		{"::1", "8080", "[::1]:8080"},
	} {
		if got := listenAddr(tt.host, tt.port); got != tt.want {
			t.Errorf("listenAddr(%q, %q) = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
}

// TestUnlock locks two accounts out through the login endpoint, unlocks one by email, then the other with
// no email, and checks that each can log in exactly when it should.
func TestUnlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, f := newPlatform(t)
	login := func(email, password string) int {
		return servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/login",
			Body: map[string]any{"email": email, "password": password}}).Status
	}
	for _, email := range []string{"ada@acme.test", "bob@bobco.test"} {
		slug := map[string]string{"ada@acme.test": "acme", "bob@bobco.test": "bobco"}[email]
		servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants", Body: map[string]any{
			"name": slug, "slug": slug, "owner": map[string]any{"email": email, "password": servicetest.Password, "name": slug},
		}}), http.StatusCreated)
		for range 10 {
			if login(email, "wrong password, surely") == http.StatusTooManyRequests {
				break
			}
		}
		if code := login(email, servicetest.Password); code != http.StatusTooManyRequests {
			t.Fatalf("%s with the right password after failures: %d, want 429 (locked out)", email, code)
		}
	}
	conn, err := pgx.Connect(ctx, f.DB.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	deleted, err := unlock(ctx, conn, " Ada@Acme.test ")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, n := range deleted {
		total += n
	}
	if total == 0 {
		t.Fatalf("unlock ada deleted nothing: %v", deleted)
	}
	if code := login("ada@acme.test", servicetest.Password); code != http.StatusOK {
		t.Fatalf("ada after unlock: %d, want 200", code)
	}
	if code := login("bob@bobco.test", servicetest.Password); code != http.StatusTooManyRequests {
		t.Fatalf("bob after unlocking ada: %d, want still 429", code)
	}
	if _, err := unlock(ctx, conn, ""); err != nil {
		t.Fatal(err)
	}
	if code := login("bob@bobco.test", servicetest.Password); code != http.StatusOK {
		t.Fatalf("bob after unlocking everyone: %d, want 200", code)
	}
	tables := make([]string, 0, len(deleted))
	for table := range deleted {
		tables = append(tables, table)
	}
	if len(tables) == 0 || slices.Contains(tables, "") {
		t.Fatalf("unlock named no tables: %v", tables)
	}
}

func TestUnlockWithoutThrottleTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := servicetest.New(t)
	conn, err := pgx.Connect(ctx, f.DB.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A database whose directory schema has no throttle table (an empty one in place of the real one) must
	// say so rather than report success.
	if _, err := conn.Exec(ctx, `ALTER SCHEMA directory RENAME TO directory_moved; CREATE SCHEMA directory`); err != nil {
		t.Fatal(err)
	}
	if _, err := unlock(ctx, conn, "ada@acme.test"); err == nil {
		t.Fatal("unlock without throttle tables: no error")
	}
}
