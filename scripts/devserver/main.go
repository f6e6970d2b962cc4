// Command devserver runs the whole platform on one port: it migrates the database, builds every function
// over one shared environment and routes requests as the API Gateway document (opentofu/gateway/openapi.yaml)
// does in production.
//
// It needs DATABASE_ADMIN_URL, a postgres:// URL of a role that may create databases (make run takes it from
// DATABASE_ADMIN_URL or DATABASE_URL when either answers, or finds or starts a server). It creates the database DEV_DATABASE (default hyperscale) there, migrates it as that role, and has the
// functions connect as the application role, whose login it enables with the dev password.
//
// Locally it listens on DEV_HOST (default 127.0.0.1) and, unless told otherwise, logs text lines
// (LOG_FORMAT=text) and keeps its token signing key in .dev/token-signing-key.pem, so tokens survive a restart.
//
// "devserver unlock [EMAIL]" clears the login throttle in the dev database instead: the rows that name EMAIL,
// or every row without it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coditect/hyperscale/schema"
	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/contract"
	"github.com/coditect/hyperscale/shared/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	server := os.Getenv("DATABASE_ADMIN_URL")
	if server == "" {
		return errors.New("DATABASE_ADMIN_URL is not set; run `make run`, which finds or starts a PostgreSQL")
	}
	name := os.Getenv("DEV_DATABASE")
	if name == "" {
		name = "hyperscale"
	}
	admin, err := ensureDatabase(ctx, server, name)
	if err != nil {
		return err
	}
	if len(os.Args) > 1 && os.Args[1] == "unlock" {
		return runUnlock(ctx, admin, name, strings.Join(os.Args[2:], ""))
	}
	if len(os.Args) > 1 {
		return fmt.Errorf("unknown command %q; want none (serve) or unlock [EMAIL]", strings.Join(os.Args[1:], " "))
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := repoRoot(wd)
	if err != nil {
		return err
	}
	defaulted, err := localDefaults(os.LookupEnv, os.Setenv, root)
	if err != nil {
		return err
	}
	for _, store := range schema.Stores {
		if err := schema.Migrate(ctx, admin, store, nil); err != nil {
			return err
		}
	}
	if err := schema.EnableLogin(ctx, admin, schema.DevPassword); err != nil {
		return err
	}
	// The functions always connect as the application role, whatever DATABASE_URL named the server by: an
	// owner or superuser connection would bypass row-level security and hide isolation bugs.
	u, err := url.Parse(admin)
	if err != nil {
		return fmt.Errorf("DATABASE_ADMIN_URL: %w", err)
	}
	u.User = url.UserPassword(schema.AppRole, schema.DevPassword)
	_ = os.Setenv("DATABASE_URL", u.String())
	_ = os.Unsetenv("TENANT_DATABASE_URL")

	var cfg service.Config
	if err := config.Load(ctx, &cfg); err != nil {
		return err
	}
	env, err := service.NewEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer env.Close()
	// The fakes started below log through slog's default logger: give them the platform's format.
	slog.SetDefault(env.Log)
	if len(defaulted) > 0 {
		env.Log.Info("local defaults", slog.String("set", strings.Join(defaulted, " ")))
	}
	doc := os.Getenv("GATEWAY_DOCUMENT")
	if doc == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if doc, err = contract.FindDocument(wd); err != nil {
			return fmt.Errorf("%w (run inside the repository, or set GATEWAY_DOCUMENT)", err)
		}
	}
	// The tasks function reads its storage settings when it is built, so the fake starts first.
	stopStorage, err := startDevStorage(ctx)
	if err != nil {
		return err
	}
	defer stopStorage()
	h, err := platform(env, doc)
	if err != nil {
		return err
	}
	stopOIDC, err := startDevOIDC(ctx, env)
	if err != nil {
		return err
	}
	defer stopOIDC()
	// Every function bounds its body's read time itself (BODY_READ_TIMEOUT, httpx.Edge), as it must under the
	// Functions Framework's server; ReadTimeout is the same bound over the whole request, so that the dev server
	// also sheds a client that stalls in a route no function serves.
	const headerTimeout = 10 * time.Second
	addr := listenAddr(os.Getenv("DEV_HOST"), cfg.Port)
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: headerTimeout,
		ReadTimeout: headerTimeout + cfg.Edge.BodyReadTimeout, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	env.Log.Info("platform serving", slog.String("addr", "http://"+addr), slog.String("gateway", doc))
	fmt.Fprint(os.Stderr, walkthrough(cfg.Port))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	env.Log.Info("platform stopped")
	return nil
}

// runUnlock clears the login throttle of the dev database name behind admin for email (every row when empty).
func runUnlock(ctx context.Context, admin, name, email string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", name, err)
	}
	defer conn.Close(ctx)
	deleted, err := unlock(ctx, conn, email)
	if err != nil {
		return err
	}
	who := "every address"
	if email != "" {
		who = email
	}
	for table, n := range deleted {
		fmt.Printf("unlock %s in %s: deleted %d rows of directory.%s\n", who, name, n, table)
	}
	return nil
}

// ensureDatabase creates the dev database name on the server behind admin unless it exists, and returns the
// admin URL pointed at it, so the platform's tables never land in the server's maintenance database.
func ensureDatabase(ctx context.Context, admin, name string) (string, error) {
	if !regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`).MatchString(name) {
		return "", fmt.Errorf("DEV_DATABASE %q is not a plain lower-case identifier", name)
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", admin, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look for database %s: %w", name, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("DATABASE_ADMIN_URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func walkthrough(port string) string {
	base := "http://localhost:" + port
	return fmt.Sprintf(`
Hyperscale is running on %[1]s. Try (the README walks through the rest; jq reads the answers):

  curl -sS -w '\n%%{http_code}\n' %[1]s/v1/tenants -H 'Content-Type: application/json' \
    -d '{"name":"Acme","slug":"acme","owner":{"email":"ada@acme.test","password":"correct horse battery","name":"Ada"}}'

  TOKEN=$(curl -sS %[1]s/v1/auth/login -H 'Content-Type: application/json' \
    -d '{"email":"ada@acme.test","password":"correct horse battery","tenant":"acme"}' | jq -er .access_token)

  curl -sS %[1]s/v1/projects -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"Apollo","description":"to the moon"}' | jq .

  curl -sS %[1]s/v1/projects -H "Authorization: Bearer $TOKEN" | jq '.items[].name'

`, base)
}
