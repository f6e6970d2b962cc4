// Command seed fills a database with a million tenants for the large-tenant benchmarks (scripts/bench):
//
//	go run ./scripts/seed -reset                      # 1,000,000 tenants into database hyperscale_bench
//	go run ./scripts/seed -reset -tenants 10000 -large 3 -large-tasks 20000
//
// Most tenants are small (an owner, -small-projects projects, -small-tasks tasks each); -large of them, spread
// evenly over the tenants, are enterprise organizations with -large-members members, -large-projects projects
// (each with a team of project members) and -large-tasks tasks, on which about -large-comments comments.
// Task fields follow realistic mixes: statuses, priorities, ~60% assigned within the project's team, ~70% with
// a due date within 90 days of -now, zero to three labels, board positions, a percent soft-deleted, and
// project sizes that follow a Zipf-like law (the biggest of 200 projects holds about a tenth of the tenant's
// tasks).
//
// It migrates the database first (both stores, as the owner), lets the application role log in with the dev
// password, and then loads every table with COPY as the owner (DESIGN.md rule 8), generating rows while COPY
// streams them, over -workers connections. Columns are matched by name against the tables as migrated at run
// time, so a column added later keeps its default; a NOT NULL column without a default that the seed does not
// know stops it before loading. The tables the application fills alongside others (task labels, project name
// suffixes, search terms, task counts) are derived in the server with the statements of the migrations that
// fill them for existing rows. With -defer-indexes (the default) the keys, indexes and foreign keys of the
// loaded tables are dropped first and recreated afterwards from their exact definitions (pg_get_constraintdef,
// pg_get_indexdef), which is faster than maintaining them row by row. The tables are vacuumed and analyzed.
// It prints the time and row count of each phase, the database's size, the sizes of its biggest tables and
// the tables it left empty.
//
// Randomness comes from -seed and each tenant's index only, so a run is reproducible (given -now) whatever
// -workers is. Every identity's password is -password, so any seeded user can log in to a platform run on
// this database (emails t0000001-owner@example.com, and t0000051-m001@example.com ... for the members of a
// large tenant; `SELECT slug FROM directory.tenants WHERE plan = 'enterprise'` lists the large tenants).
//
// The target is -url (an owner URL of the database to fill) or, by default, database hyperscale_bench on the
// server of $DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), created when missing.
// -reset drops and recreates the target database first; without it the seed refuses a database that already
// holds tenants. Drop the database afterwards with:
//
//	psql postgres://postgres@127.0.0.1:5432/postgres -c 'DROP DATABASE hyperscale_bench WITH (FORCE)'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/coditect/hyperscale/schema"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/jackc/pgx/v5"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// config is the parsed command line.
type config struct {
	url           string
	tenants       int
	large         int
	largeTasks    int
	largeProjects int
	largeMembers  int
	smallProjects span
	smallTasks    span
	largeComments int
	seed          uint64
	now           time.Time
	nowMs         int64
	reset         bool
	workers       int
	deferIndexes  bool
	password      string
	passwordHash  string
	out           io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c, err := parseFlags(os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err == nil {
		err = c.run(ctx)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, out io.Writer) (*config, error) {
	c := &config{out: out, smallProjects: span{1, 2}, smallTasks: span{0, 5}}
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.StringVar(&c.url, "url", "", "owner URL of the database to fill (default: database hyperscale_bench on $DATABASE_ADMIN_URL's server)")
	fs.IntVar(&c.tenants, "tenants", 1_000_000, "number of tenants")
	fs.IntVar(&c.large, "large", 100, "how many of them are large")
	fs.IntVar(&c.largeTasks, "large-tasks", 100_000, "tasks of each large tenant")
	fs.IntVar(&c.largeProjects, "large-projects", 200, "projects of each large tenant")
	fs.IntVar(&c.largeMembers, "large-members", 50, "members of each large tenant besides its owner")
	fs.Var(&c.smallProjects, "small-projects", "projects of each small tenant, n or lo..hi")
	fs.Var(&c.smallTasks, "small-tasks", "tasks of each small tenant, n or lo..hi")
	fs.IntVar(&c.largeComments, "large-comments", 2000, "comments on the tasks of each large tenant, about (0: none)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of every random choice")
	nowFlag := fs.String("now", time.Now().UTC().Format(time.DateOnly), "the day the data is as of (YYYY-MM-DD): due dates spread 90 days around it")
	fs.BoolVar(&c.reset, "reset", false, "drop and recreate the database first")
	fs.IntVar(&c.workers, "workers", 2, "connections loading in parallel")
	fs.BoolVar(&c.deferIndexes, "defer-indexes", true, "drop the keys, indexes and foreign keys of the loaded tables and recreate them after loading")
	fs.StringVar(&c.password, "password", "seeded-bench-password", "every seeded identity's password")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	now, err := time.Parse(time.DateOnly, *nowFlag)
	if err != nil {
		return nil, fmt.Errorf("-now: %w", err)
	}
	c.now, c.nowMs = now, now.UnixMilli()
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	check(c.tenants >= 1 && c.tenants <= 9_999_999, "-tenants must be 1 to 9,999,999")
	check(c.large >= 0 && c.large <= c.tenants, "-large must be 0 to -tenants")
	check(c.largeTasks >= 0 && c.largeTasks <= 10_000_000, "-large-tasks must be 0 to 10,000,000")
	check(c.largeProjects >= 1 && c.largeProjects <= 100_000, "-large-projects must be 1 to 100,000")
	check(c.largeMembers >= 0 && c.largeMembers <= 999, "-large-members must be 0 to 999")
	check(c.smallProjects.lo >= 1 || c.smallTasks.hi == 0, "-small-projects must be at least 1 when small tenants have tasks")
	check(c.largeComments >= 0 && c.largeComments <= 10_000_000, "-large-comments must be 0 to 10,000,000")
	check(c.workers >= 1 && c.workers <= 16, "-workers must be 1 to 16")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// phaseResult is one line of the report.
type phaseResult struct {
	name string
	rows int64
	took time.Duration
	note string
}

func (c *config) logf(format string, a ...any) { fmt.Fprintf(c.out, format+"\n", a...) }

// connect opens a loading connection. Each commits one big COPY, so synchronous commit buys nothing; index
// builds get generous sort memory (this is a bulk-load session, not the application's).
func (c *config) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, c.url)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; SET work_mem = '256MB'; SET max_parallel_maintenance_workers = 2; SET statement_timeout = 0`); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("session settings: %w", err)
	}
	return conn, nil
}

// progress prints a running count every 10 seconds until the returned function is called.
func (c *config) progress(name string, count interface{ Load() int64 }, start time.Time) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n := count.Load()
				c.logf("    %s: %s rows so far (%s rows/s)", name, thousands(n), thousands(int64(float64(n)/time.Since(start).Seconds())))
			}
		}
	}()
	return func() { close(done) }
}

func (c *config) run(ctx context.Context) error {
	started := time.Now()
	if err := c.target(ctx); err != nil {
		return err
	}
	c.logf("seed: %s tenants (%d large: %s tasks, %d projects, %d members each; small: %s projects, %s tasks), seed %d, as of %s, %d workers",
		thousands(int64(c.tenants)), c.large, thousands(int64(c.largeTasks)), c.largeProjects, c.largeMembers, c.smallProjects, c.smallTasks, c.seed, c.now.Format(time.DateOnly), c.workers)
	c.logf("into %s", db.Redact(c.url))
	var results []phaseResult
	phase := func(name string, fn func() error) error {
		t0 := time.Now()
		c.logf("  %s ...", name)
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, phaseResult{name: name, took: time.Since(t0)})
		return nil
	}
	loadPhase := func(res phaseResult, err error) error {
		if err != nil {
			return err
		}
		results = append(results, res)
		rate := ""
		if res.rows > 0 {
			rate = fmt.Sprintf(" (%s rows/s)", thousands(int64(float64(res.rows)/res.took.Seconds())))
		}
		c.logf("  %-22s %12s rows %9s%s %s", res.name, thousands(res.rows), round(res.took), rate, res.note)
		return nil
	}

	if err := phase("migrate", func() error { return c.migrate(ctx) }); err != nil {
		return err
	}
	if err := c.checkColumns(ctx); err != nil {
		return err
	}
	var dropped []deferred
	if c.deferIndexes {
		if err := phase("drop keys, indexes, fks", func() (err error) { dropped, err = c.dropDeferred(ctx); return err }); err != nil {
			return err
		}
	}
	c.passwordHash = identity.HashPassword(c.password, identity.DefaultParams)
	if err := loadPhase(load(ctx, c, tenantsTable, c.tenantRows)); err != nil {
		return err
	}
	if err := loadPhase(load(ctx, c, identitiesTable(c), c.peopleRows)); err != nil {
		return err
	}
	if err := loadPhase(load(ctx, c, membershipsTable, c.membershipRows)); err != nil {
		return err
	}
	if err := loadPhase(load(ctx, c, projectsTable, c.projectRows)); err != nil {
		return err
	}
	if err := loadPhase(load(ctx, c, projectMembersTable, c.projectMemberRows)); err != nil {
		return err
	}
	targets := make([][]commentTarget, c.workers)
	if err := loadPhase(load(ctx, c, tasksTable, c.taskRows(targets))); err != nil {
		return err
	}
	if c.largeComments > 0 {
		if err := loadPhase(load(ctx, c, commentsTable, c.commentRows(targets))); err != nil {
			return err
		}
	}
	// Freshly loaded pages are read several times over by what follows (the derivations, the index builds,
	// the foreign keys' validation), each time faster once a vacuum has set their hint bits and marked them
	// all-visible: measured at full size, validating the two foreign keys to tenant.projects took 96 s before
	// a vacuum and 19 s after.
	if err := phase("vacuum loaded tables", func() error { return c.vacuum(ctx, false, false) }); err != nil {
		return err
	}
	for _, d := range derivations {
		if err := loadPhase(c.derive(ctx, d)); err != nil {
			return err
		}
	}
	if len(dropped) > 0 {
		for _, kind := range []string{"key", "index"} {
			if err := phase("add back "+plurals[kind], func() error { return c.recreate(ctx, dropped, kind) }); err != nil {
				return err
			}
		}
	}
	// Statistics after the indexes (ANALYZE also samples expression indexes), the derived tables' visibility
	// map for index-only scans; both as autovacuum would leave a live database.
	if err := phase("vacuum analyze", func() error { return c.vacuum(ctx, true, true) }); err != nil {
		return err
	}
	if len(dropped) > 0 {
		if err := phase("add back foreign keys", func() error { return c.recreate(ctx, dropped, "foreign key") }); err != nil {
			return err
		}
	}
	return c.report(ctx, results, time.Since(started))
}

var plurals = map[string]string{"key": "keys", "index": "indexes", "foreign key": "foreign keys"}

// target settles c.url, creating (or with -reset recreating) the database it names.
func (c *config) target(ctx context.Context) error {
	if c.url == "" {
		admin := os.Getenv("DATABASE_ADMIN_URL")
		if admin == "" {
			admin = defaultAdminURL
		}
		u, err := db.WithDatabase(admin, "hyperscale_bench")
		if err != nil {
			return err
		}
		c.url = u
	}
	u, err := url.Parse(c.url)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" || strings.HasPrefix(name, "template") {
		return fmt.Errorf("-url must name a database of its own to fill, not %q", name)
	}
	maint, err := db.WithDatabase(c.url, "postgres")
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, maint)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", db.Redact(maint), err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if c.reset {
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look for %s: %w", name, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	return nil
}

// migrate brings both stores up to date, lets the application role log in, and refuses a database that
// already holds tenants (their slugs and emails would collide).
func (c *config) migrate(ctx context.Context) error {
	for _, store := range schema.Stores {
		if err := schema.Migrate(ctx, c.url, store, nil); err != nil {
			return err
		}
	}
	// Roles are cluster-wide: another process altering the role at the same moment (a test suite building its
	// template) makes ALTER ROLE fail with "tuple concurrently updated", which a retry settles.
	for try := 1; ; try++ {
		err := schema.EnableLogin(ctx, c.url, schema.DevPassword)
		if err == nil {
			break
		}
		if try == 5 || !strings.Contains(err.Error(), "tuple concurrently updated") {
			return err
		}
		time.Sleep(time.Duration(try) * 100 * time.Millisecond)
	}
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var any bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM directory.tenants)`).Scan(&any); err != nil {
		return fmt.Errorf("look for tenants: %w", err)
	}
	if any {
		return errors.New("the database already holds tenants: run with -reset to start over")
	}
	return nil
}

// checkColumns matches every table's columns before anything is loaded, so that a column the seed must learn
// about stops it at once rather than after minutes of loading.
func (c *config) checkColumns(ctx context.Context) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, check := range []func() error{
		func() error { _, _, _, err := tenantsTable.resolve(ctx, conn); return err },
		func() error { _, _, _, err := identitiesTable(c).resolve(ctx, conn); return err },
		func() error { _, _, _, err := membershipsTable.resolve(ctx, conn); return err },
		func() error { _, _, _, err := projectsTable.resolve(ctx, conn); return err },
		func() error { _, _, _, err := projectMembersTable.resolve(ctx, conn); return err },
		func() error { _, _, _, err := tasksTable.resolve(ctx, conn); return err },
		func() error { _, _, _, err := commentsTable.resolve(ctx, conn); return err },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// loaded names every table the seed may load, for the index and vacuum phases.
func (c *config) loaded(ctx context.Context) ([]string, error) {
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	var names []string
	all := []string{tenantsTable.String(), "directory.identities", membershipsTable.String(),
		projectsTable.String(), projectMembersTable.String(), tasksTable.String(), commentsTable.String()}
	for _, d := range derivations {
		if !slices.Contains(all, d.table) {
			all = append(all, d.table)
		}
	}
	for _, n := range all {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, n).Scan(&ok); err != nil {
			return nil, err
		}
		if ok {
			names = append(names, n)
		}
	}
	return names, nil
}

// vacuum vacuums the loaded tables (with derived set, the derived ones too), analyzing them when analyze is
// set, largest first so that the connections finish together.
func (c *config) vacuum(ctx context.Context, derived, analyze bool) error {
	tables, err := c.loaded(ctx)
	if err != nil {
		return err
	}
	isDerived := map[string]bool{}
	for _, d := range derivations {
		isDerived[d.table] = true
	}
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT t FROM unnest($1::text[]) AS t ORDER BY pg_table_size(t::regclass) DESC`, tables)
	if err != nil {
		return fmt.Errorf("table sizes: %w", err)
	}
	bySize, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("table sizes: %w", err)
	}
	stmt := `VACUUM `
	if analyze {
		stmt = `VACUUM (ANALYZE) `
	}
	var jobs []string
	for _, t := range bySize {
		if derived || !isDerived[t] {
			jobs = append(jobs, stmt+t)
		}
	}
	return parallel(ctx, c, jobs)
}

func (c *config) report(ctx context.Context, results []phaseResult, total time.Duration) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	c.logf("\n%-28s %14s %10s", "phase", "rows", "time")
	for _, r := range results {
		rows := ""
		if r.rows > 0 || strings.Contains(r.name, ".") {
			rows = thousands(r.rows)
		}
		c.logf("%-28s %14s %10s", r.name, rows, round(r.took))
	}
	c.logf("%-28s %14s %10s", "total", "", round(total))
	var size string
	if err := conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&size); err != nil {
		return fmt.Errorf("database size: %w", err)
	}
	c.logf("\ndatabase size: %s", size)
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname), pg_size_pretty(pg_table_size(c.oid)),
			pg_size_pretty(pg_indexes_size(c.oid))
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname IN ('directory', 'tenant') AND pg_total_relation_size(c.oid) > 8 * 1024 * 1024
		ORDER BY pg_total_relation_size(c.oid) DESC`)
	if err != nil {
		return fmt.Errorf("table sizes: %w", err)
	}
	c.logf("%-28s %10s %10s", "table", "heap", "indexes")
	var name, heap, idx string
	if _, err = pgx.ForEachRow(rows, []any{&name, &heap, &idx}, func() error {
		c.logf("%-28s %10s %10s", name, heap, idx)
		return nil
	}); err != nil {
		return err
	}
	// Tables left empty: a table added since the seed last learnt the schema shows up here.
	rows, err = conn.Query(ctx, `SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
		WHERE schemaname IN ('directory', 'tenant') AND relname <> 'goose_db_version' ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("tables: %w", err)
	}
	var empty []string
	for _, t := range tables {
		var any bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&any); err != nil {
			return fmt.Errorf("look into %s: %w", t, err)
		}
		if !any {
			empty = append(empty, t)
		}
	}
	c.logf("\nleft empty: %s", strings.Join(empty, ", "))
	return nil
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
