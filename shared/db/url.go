package db

import (
	"fmt"
	"net/url"
)

// WithDatabase returns the postgres:// URL dsn naming database name instead of its own, for the tools that
// create and clone databases on one server (the dev server, the seed, the test helpers).
func WithDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%s is not a postgres:// URL", Redact(dsn))
	}
	u.Path = "/" + name
	return u.String(), nil
}

// Redact returns dsn with its password hidden, for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
