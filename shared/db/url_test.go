package db

import "testing"

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dsn, want, err string
	}{
		{dsn: "postgres://u:secret@127.0.0.1:5432/postgres?sslmode=disable", want: "postgres://u:secret@127.0.0.1:5432/other?sslmode=disable"},
		{dsn: "postgresql://127.0.0.1/", want: "postgresql://127.0.0.1/other"},
		{dsn: "mysql://u:secret@host/db", err: "mysql://u:xxxxx@host/db is not a postgres:// URL"},
		{dsn: "host=127.0.0.1 dbname=postgres", err: "host=127.0.0.1%20dbname=postgres is not a postgres:// URL"},
		{dsn: "postgres://%zz", err: "(unparsable URL) is not a postgres:// URL"},
	} {
		got, err := WithDatabase(tc.dsn, "other")
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("WithDatabase(%q): error %v, want %q", tc.dsn, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("WithDatabase(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
	}
}
