package schema

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
)

// DevPassword is AppRole's password on dev clusters and in tests, where the cluster trusts loopback anyway.
const DevPassword = "hyperscale-dev"

var devPassword = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// EnableLogin lets AppRole log in with password, for dev clusters and tests where no IAM user or secret-held
// credential exists. It runs as the owner; the password is limited to a plain alphabet because ALTER ROLE
// cannot take it as a parameter.
func EnableLogin(ctx context.Context, dsn, password string) error {
	if !devPassword.MatchString(password) {
		return fmt.Errorf("enable login: password must be 8-64 characters of [A-Za-z0-9_-]")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("enable login: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("ALTER ROLE %s WITH LOGIN PASSWORD '%s'", AppRole, password)); err != nil {
		return fmt.Errorf("enable login for %s: %w", AppRole, err)
	}
	return nil
}
