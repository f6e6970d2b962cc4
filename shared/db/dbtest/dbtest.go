// Package dbtest gives each test its own PostgreSQL database, cloned from a template that is migrated once per
// set of migrations, so tests run in parallel against the real server (the exposure-notifications-server
// habit).
//
// The server is the one named by TEST_DATABASE_URL (a URL, connecting as a role that may create databases and
// roles), by default postgres://postgres@127.0.0.1:5432/postgres. `make test` starts a throwaway cluster and
// sets the variable when nothing answers there.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/schema"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Database is one test's private database.
type Database struct {
	// Name is the database's name.
	Name string
	// OwnerURL connects as the role that owns the tables (and bypasses row-level security).
	OwnerURL string
	// AppURL connects as the application role, as the functions do.
	AppURL string
	// Owner is a pool on OwnerURL, for arranging fixtures and inspecting what the application wrote.
	Owner *pgxpool.Pool
	// DB holds the application role's handles, as a function would open them.
	DB *db.DB
	// OwnerDB holds the same handles connected as the owner, which bypasses row-level security: a store's
	// isolation tests run on it too, to show that its tenant filter holds without RLS behind it.
	OwnerDB *db.DB
}

var tmpl struct {
	once sync.Once
	name string
	err  error
}

// AdminURL returns the URL of the server tests run against.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultAdminURL
}

// New creates a database for t from the migrated template and drops it when t ends.
func New(t testing.TB) *Database {
	t.Helper()
	ctx := context.Background()
	admin := AdminURL()
	tmpl.once.Do(func() { tmpl.name, tmpl.err = ensureTemplate(ctx, admin) })
	if tmpl.err != nil {
		t.Fatalf("dbtest: %v", tmpl.err)
	}
	name := "hs_test_" + randomHex(8)
	if err := adminExec(ctx, admin, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl.name)); err != nil {
		t.Fatalf("dbtest: clone template: %v", err)
	}
	d := &Database{Name: name}
	t.Cleanup(func() {
		if d.DB != nil {
			d.DB.Close()
		}
		if d.OwnerDB != nil {
			d.OwnerDB.Close()
		}
		if d.Owner != nil {
			d.Owner.Close()
		}
		if err := adminExec(context.Background(), admin, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	var err error
	if d.OwnerURL, err = withDatabase(admin, name, nil); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	if d.AppURL, err = withDatabase(admin, name, url.UserPassword(schema.AppRole, schema.DevPassword)); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	if d.Owner, err = pgxpool.New(ctx, d.OwnerURL); err != nil {
		t.Fatalf("dbtest: owner pool: %v", err)
	}
	if d.DB, err = db.Open(ctx, db.Config{URL: d.AppURL, MaxConns: 4, ExecMode: "cache_statement"}, nil); err != nil {
		t.Fatalf("dbtest: app pool: %v", err)
	}
	if d.OwnerDB, err = db.Open(ctx, db.Config{URL: d.OwnerURL, MaxConns: 2, ExecMode: "cache_statement"}, nil); err != nil {
		t.Fatalf("dbtest: owner handles: %v", err)
	}
	return d
}

// ensureTemplate migrates a template database named after a hash of the migrations, unless one exists.
// Test binaries of several packages run at once, so the work is serialised by an advisory lock on the admin
// database, and the template is built under a temporary name and renamed only when complete.
func ensureTemplate(ctx context.Context, admin string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "hs_tpl_" + sum
	conn, err := connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('hyperscale dbtest template'))`); err != nil {
		return "", fmt.Errorf("lock template: %w", err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look for template: %w", err)
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	for _, stmt := range []string{
		fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building),
		fmt.Sprintf(`CREATE DATABASE %s`, building),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", fmt.Errorf("create template: %w", err)
		}
	}
	buildURL, err := withDatabase(admin, building, nil)
	if err != nil {
		return "", err
	}
	for _, store := range schema.Stores {
		if err := schema.Migrate(ctx, buildURL, store, nil); err != nil {
			return "", fmt.Errorf("migrate template: %w", err)
		}
	}
	if err := schema.EnableLogin(ctx, buildURL, schema.DevPassword); err != nil {
		return "", err
	}
	for _, stmt := range []string{
		fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name),
		// Nobody connects to the template, so cloning it never fails on "being accessed by other users".
		fmt.Sprintf(`ALTER DATABASE %s WITH ALLOW_CONNECTIONS false`, name),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", fmt.Errorf("finish template: %w", err)
		}
	}
	return name, nil
}

func migrationsHash() (string, error) {
	h := sha256.New()
	for _, store := range schema.Stores {
		fsys, err := schema.Files(store)
		if err != nil {
			return "", err
		}
		err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s/%s\n%s\n", store, path, b)
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("hash migrations: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to the test server %s (set TEST_DATABASE_URL, or run `make test`, which starts one): %w", db.Redact(dsn), err)
	}
	return conn, nil
}

func adminExec(ctx context.Context, admin, stmt string) error {
	conn, err := connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

// withDatabase returns base with its database replaced by name and, when user is not nil, its credentials.
func withDatabase(base, name string, user *url.Userinfo) (string, error) {
	s, err := db.WithDatabase(base, name)
	if err != nil {
		return "", fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	if user == nil {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	u.User = user
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
