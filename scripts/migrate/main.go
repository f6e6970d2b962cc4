// Command migrate applies the embedded migrations of both stores. It runs as the owner role
// (DATABASE_ADMIN_URL for both stores, or DIRECTORY_ADMIN_URL and TENANT_ADMIN_URL when they live apart).
// With -dev-login it also lets the application role log in with the dev password, for local clusters.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/coditect/hyperscale/schema"
)

func main() {
	devLogin := flag.Bool("dev-login", false, "let the application role log in with the dev password (never in production)")
	flag.Parse()
	if err := run(context.Background(), *devLogin); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, devLogin bool) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	admin := os.Getenv("DATABASE_ADMIN_URL")
	urls := map[schema.Store]string{schema.Directory: admin, schema.Tenant: admin}
	if u := os.Getenv("DIRECTORY_ADMIN_URL"); u != "" {
		urls[schema.Directory] = u
	}
	if u := os.Getenv("TENANT_ADMIN_URL"); u != "" {
		urls[schema.Tenant] = u
	}
	for _, store := range schema.Stores {
		if urls[store] == "" {
			return fmt.Errorf("no URL for the %s store: set DATABASE_ADMIN_URL", store)
		}
		if err := schema.Migrate(ctx, urls[store], store, log); err != nil {
			return err
		}
		if devLogin {
			if err := schema.EnableLogin(ctx, urls[store], schema.DevPassword); err != nil {
				return err
			}
		}
	}
	return nil
}
