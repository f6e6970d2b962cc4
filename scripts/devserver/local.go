package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// localKeyFile is where make run keeps its signing key, relative to the repository root (.dev/ is ignored by
// git): tokens then survive a restart of the dev server.
const localKeyFile = ".dev/token-signing-key.pem"

// localDefaults fills in the settings a developer's terminal wants and production never sees, each only when
// unset, and only for ENV=local (the default): text logs, the signing key kept in root/.dev/ when no token
// keys are configured, and CORS for the local frontend's origins (localOrigins). It returns what it set, to
// be logged.
func localDefaults(lookup func(string) (string, bool), set func(string, string) error, root string) ([]string, error) {
	if env, _ := lookup("ENV"); env != "" && env != "local" {
		return nil, nil
	}
	defaults := [][2]string{{"LOG_FORMAT", "text"}, {"CORS_ALLOWED_ORIGINS", localOrigins(lookup)}}
	_, signing := lookup("TOKEN_SIGNING_KEYS")
	_, public := lookup("TOKEN_PUBLIC_KEYS")
	if !signing && !public {
		defaults = append(defaults, [2]string{"TOKEN_LOCAL_KEY_FILE", filepath.Join(root, filepath.FromSlash(localKeyFile))})
	}
	var done []string
	for _, d := range defaults {
		if _, ok := lookup(d[0]); ok {
			continue
		}
		if err := set(d[0], d[1]); err != nil {
			return done, fmt.Errorf("set %s: %w", d[0], err)
		}
		done = append(done, d[0]+"="+d[1])
	}
	return done, nil
}

// listenAddr is the dev server's address: loopback unless DEV_HOST asks for another interface (0.0.0.0 for
// all of them), since a laptop on a café's network should not serve every account it holds.
func listenAddr(host, port string) string {
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// repoRoot is the nearest directory at or above start holding go.work.
func repoRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work in %s or any parent (run inside the repository)", start)
		}
		dir = parent
	}
}

// unlock deletes the login throttle's rows in the dev database behind conn: those whose text columns mention
// email, or every row when email is empty. It finds the throttle's tables by name in the directory schema
// rather than naming one, so it keeps working when the throttle's storage changes; it answers how many rows
// it deleted from which tables, and an error when it finds no such table.
func unlock(ctx context.Context, conn *pgx.Conn, email string) (map[string]int64, error) {
	rows, err := conn.Query(ctx, `SELECT c.table_name, c.column_name
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'directory' AND t.table_type = 'BASE TABLE'
			AND c.data_type IN ('text', 'character varying')
			AND (c.table_name LIKE '%throttl%' OR c.table_name LIKE 'login\_%' OR c.table_name LIKE '%login_attempt%'
				OR c.table_name LIKE '%lockout%' OR c.table_name LIKE '%rate_limit%')
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("find throttle tables: %w", err)
	}
	columns := map[string][]string{}
	var tables []string
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, fmt.Errorf("find throttle tables: %w", err)
		}
		if _, seen := columns[table]; !seen {
			tables = append(tables, table)
		}
		columns[table] = append(columns[table], column)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find throttle tables: %w", err)
	}
	if len(tables) == 0 {
		return nil, errors.New("no throttle table in the directory schema; start over with a fresh DEV_DATABASE instead")
	}
	email = strings.ToLower(strings.TrimSpace(email))
	deleted := map[string]int64{}
	for _, table := range tables {
		sql := "DELETE FROM directory." + pgx.Identifier{table}.Sanitize()
		var args []any
		if email != "" {
			var mention []string
			for _, c := range columns[table] {
				mention = append(mention, "strpos(lower("+pgx.Identifier{c}.Sanitize()+"), $1) > 0")
			}
			sql += " WHERE " + strings.Join(mention, " OR ")
			args = append(args, email)
		}
		tag, err := conn.Exec(ctx, sql, args...)
		if err != nil {
			return deleted, fmt.Errorf("clear %s: %w", table, err)
		}
		deleted[table] = tag.RowsAffected()
	}
	return deleted, nil
}
