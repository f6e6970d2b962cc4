package schema

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"
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
	stmt := fmt.Sprintf("ALTER ROLE %s WITH LOGIN PASSWORD '%s'", AppRole, password)
	// Roles are cluster-wide: two processes (a test run and the dev server) altering the role at once make one
	// fail with "tuple concurrently updated". The statement is idempotent, so trying again is enough.
	for attempt := 1; ; attempt++ {
		_, err = db.ExecContext(ctx, stmt)
		if err == nil {
			return nil
		}
		if attempt == 5 || !strings.Contains(err.Error(), "tuple concurrently updated") {
			return fmt.Errorf("enable login for %s: %w", AppRole, err)
		}
		time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
	}
}
