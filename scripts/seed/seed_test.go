package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func TestSpanFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		want   span
		wantOK bool
	}{
		{"1..2", span{1, 2}, true},
		{"0..5", span{0, 5}, true},
		{"3", span{3, 3}, true},
		{"2..1", span{}, false},
		{"-1..2", span{}, false},
		{"a..b", span{}, false},
		{"", span{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			var s span
			err := s.Set(tc.in)
			if (err == nil) != tc.wantOK || (tc.wantOK && s != tc.want) {
				t.Fatalf("Set(%q) = %v, %v; want %v, ok %v", tc.in, s, err, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"small run", []string{"-tenants", "10000", "-large", "3", "-large-tasks", "20000"}, ""},
		{"more large than tenants", []string{"-tenants", "10", "-large", "11"}, "-large"},
		{"no tenants", []string{"-tenants", "0"}, "-tenants"},
		{"tasks without projects", []string{"-small-projects", "0"}, "-small-projects"},
		{"bad now", []string{"-now", "tomorrow"}, "-now"},
		{"stray argument", []string{"extra"}, "unexpected"},
		{"too many workers", []string{"-workers", "99"}, "-workers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseFlags(tc.args, io.Discard)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("parseFlags: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("parseFlags error %v, want one mentioning %q", err, tc.wantErr)
			case tc.wantErr == "" && (c.tenants < 1 || c.nowMs == 0):
				t.Fatalf("parseFlags gave %+v", c)
			}
		})
	}
}

func testConfig(t *testing.T, args ...string) *config {
	t.Helper()
	c, err := parseFlags(append([]string{"-now", "2026-11-26"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUUIDv7(t *testing.T) {
	t.Parallel()
	c := testConfig(t)
	r := c.rng(0, streamPlan)
	prev := uuid.UUID{}
	for i := range 1000 {
		ms := int64(1_700_000_000_000) + int64(i)
		u := uuid.UUID(uuidV7(ms, r))
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%s: version %d variant %v", u, u.Version(), u.Variant())
		}
		if sec, nsec := u.Time().UnixTime(); sec*1000+nsec/1_000_000 != ms {
			t.Fatalf("%s carries %d.%09d, want ms %d", u, sec, nsec, ms)
		}
		if bytes.Compare(u[:], prev[:]) <= 0 {
			t.Fatalf("%s does not sort after %s", u, prev)
		}
		prev = u
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	t.Parallel()
	c := testConfig(t, "-tenants", "1000", "-large", "4", "-large-tasks", "3000")
	large := 0
	var prev [16]byte
	for i := range c.tenants {
		a, b := c.plan(i), c.plan(i)
		if a.id != b.id || a.slug != b.slug || len(a.people) != len(b.people) || len(a.projects) != len(b.projects) {
			t.Fatalf("tenant %d differs between two derivations", i)
		}
		if bytes.Compare(a.id[:], prev[:]) <= 0 {
			t.Fatalf("tenant %d's id does not sort after tenant %d's", i, i-1)
		}
		prev = a.id
		if a.large {
			large++
		}
	}
	if large != c.large {
		t.Fatalf("%d large tenants, want %d", large, c.large)
	}
	other := testConfig(t, "-tenants", "1000", "-large", "4", "-large-tasks", "3000", "-seed", "2")
	if other.plan(5).id == c.plan(5).id {
		t.Fatal("another -seed gave the same tenant id")
	}
}

// TestLargeTenantTasks checks the generated distributions of one large tenant.
func TestLargeTenantTasks(t *testing.T) {
	t.Parallel()
	c := testConfig(t, "-tenants", "100", "-large", "1", "-large-tasks", "20000")
	var tp *tenantPlan
	for i := range c.tenants {
		if tp = c.plan(i); tp.large {
			break
		}
	}
	if !tp.large || len(tp.people) != 51 || len(tp.projects) != 200 {
		t.Fatalf("large tenant: large %v, %d people, %d projects", tp.large, len(tp.people), len(tp.projects))
	}
	n, g := c.tasksOf(tp)
	team := map[[16]byte]map[[16]byte]bool{}
	projects := map[[16]byte]*project{}
	for k := range tp.projects {
		p := &tp.projects[k]
		projects[p.id] = p
		team[p.id] = map[[16]byte]bool{}
		for _, m := range p.team {
			team[p.id][tp.people[m].id] = true
		}
	}
	status := map[string]int{}
	perProject := map[[16]byte]int{}
	lastPos := map[[16]byte]float64{}
	assigned, dated := 0, 0
	var prev [16]byte
	var w task
	for range n {
		g.next(&w)
		p := projects[w.project]
		status[w.status]++
		perProject[w.project]++
		if bytes.Compare(w.id[:], prev[:]) <= 0 {
			t.Fatal("tasks are not generated in id (creation) order")
		}
		prev = w.id
		if w.created < p.created || w.created > c.nowMs || w.updated < w.created || w.updated > c.nowMs {
			t.Fatalf("task times out of range: created %d (project %d), updated %d, now %d", w.created, p.created, w.updated, c.nowMs)
		}
		if w.assignee != ([16]byte{}) {
			assigned++
			if !team[w.project][w.assignee] {
				t.Fatal("a task is assigned outside its project's team")
			}
		}
		if w.due != 0 {
			dated++
			if d := (w.due - c.nowMs) / day; d < -90 || d > 90 {
				t.Fatalf("due %d days from now", d)
			}
		}
		if len(w.labels) > 3 || w.labels == nil {
			t.Fatalf("labels %v", w.labels)
		}
		for _, l := range w.labels {
			if !slices.Contains(labelWords, l) {
				t.Fatalf("label %q is not in the vocabulary", l)
			}
		}
		if w.position <= lastPos[w.project] {
			t.Fatal("positions do not grow within a project")
		}
		lastPos[w.project] = w.position
		if (w.status == "done") != (w.completed != 0) {
			t.Fatalf("status %s with completed_at %d", w.status, w.completed)
		}
	}
	share := func(k int) float64 { return float64(k) / float64(n) }
	for _, tc := range []struct {
		name    string
		got, lo float64
		hi      float64
	}{
		{"todo", share(status["todo"]), 0.32, 0.38},
		{"in_progress", share(status["in_progress"]), 0.16, 0.20},
		{"blocked", share(status["blocked"]), 0.05, 0.09},
		{"done", share(status["done"]), 0.37, 0.43},
		{"assigned", share(assigned), 0.57, 0.63},
		{"dated", share(dated), 0.67, 0.73},
	} {
		if tc.got < tc.lo || tc.got > tc.hi {
			t.Errorf("%s share %.3f, want %.2f..%.2f", tc.name, tc.got, tc.lo, tc.hi)
		}
	}
	biggest := 0
	for _, k := range perProject {
		biggest = max(biggest, k)
	}
	if biggest < n/20 || biggest > n/5 {
		t.Errorf("biggest project holds %d of %d tasks, want a Zipf-like head of 5%% to 20%%", biggest, n)
	}
}

// seedInto runs the seed at a tiny scale into the test database d.
func seedInto(t *testing.T, d *dbtest.Database, args ...string) *config {
	t.Helper()
	var out bytes.Buffer
	c, err := parseFlags(append([]string{"-url", d.OwnerURL, "-now", "2026-11-26", "-tenants", "300", "-large", "2",
		"-large-tasks", "3000", "-large-projects", "20", "-large-members", "10", "-large-comments", "100"}, args...), &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.run(context.Background()); err != nil {
		t.Fatalf("seed: %v\n%s", err, out.String())
	}
	return c
}

// schemaObjects lists the keys, foreign keys and indexes of the tenant and directory schemas, as definitions.
func schemaObjects(t *testing.T, d *dbtest.Database) []string {
	t.Helper()
	rows, err := d.Owner.Query(context.Background(), `
		SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE connamespace::regnamespace::text IN ('tenant', 'directory')
		UNION ALL
		SELECT indexdef FROM pg_indexes WHERE schemaname IN ('tenant', 'directory')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

func count(t *testing.T, d *dbtest.Database, sql string) int {
	t.Helper()
	var n int
	if err := d.Owner.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestSeed loads a tiny data set into a migrated database and checks the rows, the schema it leaves, and that
// the application reads the seeded data through its own store.
func TestSeed(t *testing.T) {
	t.Parallel()
	pristine := dbtest.New(t)
	d := dbtest.New(t)
	c := seedInto(t, d)

	if got, want := schemaObjects(t, d), schemaObjects(t, pristine); !slices.Equal(got, want) {
		t.Errorf("the seed left other keys and indexes than the migrations make:\ngot  %q\nwant %q", got, want)
	}
	// Expected counts, from the generator itself.
	var people, projects, members, tasks, labels, suffixes int
	for i := range c.tenants {
		tp := c.plan(i)
		people += len(tp.people)
		projects += len(tp.projects)
		for _, p := range tp.projects {
			members += len(p.team)
			seen := map[string]bool{}
			for _, w := range strings.FieldsFunc(strings.ToLower(p.name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
				for k := range w {
					seen[w[k:]] = true
				}
			}
			suffixes += len(seen)
		}
		n, g := c.tasksOf(tp)
		tasks += n
		var w task
		for range n {
			g.next(&w)
			labels += len(w.labels)
		}
	}
	for _, tc := range []struct {
		sql  string
		want int
	}{
		{`SELECT count(*) FROM directory.tenants WHERE status = 'active'`, c.tenants},
		{`SELECT count(*) FROM directory.tenants WHERE plan = 'enterprise'`, c.large},
		{`SELECT count(*) FROM directory.identities`, people},
		{`SELECT count(*) FROM directory.memberships`, people},
		{`SELECT count(*) FROM directory.memberships WHERE role = 'owner'`, c.tenants},
		{`SELECT count(*) FROM tenant.projects`, projects},
		{`SELECT count(*) FROM tenant.project_members`, members},
		{`SELECT count(*) FROM tenant.tasks`, tasks},
		{`SELECT count(*) FROM tenant.task_labels`, labels},
		{`SELECT count(*) FROM tenant.project_name_suffixes`, suffixes},
		{`SELECT count(*) FROM tenant.tasks t JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
			WHERE t.created_at < p.created_at`, 0},
		{`SELECT count(*) FROM tenant.tasks WHERE due_key <> coalesce(due_date, 'infinity')`, 0},
	} {
		if got := count(t, d, tc.sql); got != tc.want {
			t.Errorf("%s = %d, want %d", strings.Join(strings.Fields(tc.sql), " "), got, tc.want)
		}
	}
	// The derived tables hold what the migrations' own statements derive from the loaded rows.
	for _, tc := range []struct{ table, want string }{
		{"tenant.search_terms", `SELECT count(*) FROM (
			SELECT p.id FROM tenant.projects p, unnest(setweight(to_tsvector('english', p.name), 'A') || to_tsvector('english', p.description))
			UNION ALL
			SELECT t.id FROM tenant.tasks t, unnest(setweight(to_tsvector('english', t.title), 'A') || to_tsvector('english', t.description))
			WHERE t.deleted_at IS NULL
			UNION ALL
			SELECT c.id FROM tenant.comments c, unnest(to_tsvector('english', c.body)) WHERE c.deleted_at IS NULL) x`},
		{"tenant.task_counts", `SELECT count(DISTINCT (tenant_id, project_id, status)) FROM tenant.tasks WHERE deleted_at IS NULL`},
	} {
		if got, want := count(t, d, `SELECT count(*) FROM `+tc.table), count(t, d, tc.want); got != want || got == 0 {
			t.Errorf("%s holds %d rows, want %d", tc.table, got, want)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM tenant.comments`); n < 100 || n > 400 {
		t.Errorf("%d comments, want about 200", n)
	}
	if n := count(t, d, `SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'tasks' AND last_analyze IS NOT NULL`); n != 1 {
		t.Error("tenant.tasks was not analyzed")
	}

	// The application role reads a large tenant's tasks through the store, row-level security and all.
	var tenant, project, assignee uuid.UUID
	var label string
	if err := d.Owner.QueryRow(context.Background(), `SELECT t.tenant_id, t.project_id, t.assignee_id, t.labels[1]
		FROM tenant.tasks t JOIN directory.tenants d ON d.id = t.tenant_id AND d.plan = 'enterprise'
		JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id AND p.deleted_at IS NULL
		WHERE t.deleted_at IS NULL AND t.assignee_id IS NOT NULL AND cardinality(t.labels) > 0 LIMIT 1`).
		Scan(&tenant, &project, &assignee, &label); err != nil {
		t.Fatal(err)
	}
	store := work.NewTasks(d.DB)
	for _, q := range []work.TaskQuery{{}, {AssigneeID: &assignee}, {Labels: []string{label}}} {
		p, err := store.List(context.Background(), tenant, project, q)
		if err != nil || len(p.Items) == 0 {
			t.Fatalf("List(%+v): %d items, %v", q, len(p.Items), err)
		}
	}

	var name string
	if err := d.Owner.QueryRow(context.Background(), `SELECT name FROM tenant.projects WHERE tenant_id = $1 AND id = $2`, tenant, project).Scan(&name); err != nil {
		t.Fatal(err)
	}
	word := strings.Fields(name)[0]
	if p, err := work.NewProjects(d.DB).List(context.Background(), tenant, work.ProjectQuery{Search: word}); err != nil || len(p.Items) == 0 {
		t.Errorf("search projects for %q (from %q): %d found, %v", word, name, len(p.Items), err)
	}

	if p, err := work.NewSearch(d.DB).Find(context.Background(), tenant, work.SearchQuery{Text: word}); err != nil || len(p.Items) == 0 {
		t.Errorf("search for %q: %d found, %v", word, len(p.Items), err)
	}

	// A second run refuses a database that holds tenants.
	c2, err := parseFlags([]string{"-url", d.OwnerURL, "-tenants", "10", "-large", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.run(context.Background()); err == nil || !strings.Contains(err.Error(), "-reset") {
		t.Errorf("a second seed into the same database: %v, want a refusal naming -reset", err)
	}
}

// TestSeedIsReproducible seeds twice with different worker counts and compares what was loaded.
func TestSeedIsReproducible(t *testing.T) {
	t.Parallel()
	a, b := dbtest.New(t), dbtest.New(t)
	seedInto(t, a, "-workers", "1", "-defer-indexes=false")
	seedInto(t, b, "-workers", "3")
	digest := func(d *dbtest.Database) string {
		var s string
		if err := d.Owner.QueryRow(context.Background(), `SELECT concat_ws(' ',
			(SELECT md5(string_agg(id::text || slug || name || plan || created_at::text, ',' ORDER BY id)) FROM directory.tenants),
			(SELECT md5(string_agg(id::text || email || coalesce(password_hash <> '', false)::text, ',' ORDER BY id)) FROM directory.identities),
			(SELECT md5(string_agg(t::text, ',' ORDER BY tenant_id, id)) FROM tenant.projects t),
			(SELECT md5(string_agg(t::text, ',' ORDER BY tenant_id, project_id, identity_id)) FROM tenant.project_members t),
			(SELECT md5(string_agg(t::text, ',' ORDER BY tenant_id, id)) FROM tenant.tasks t),
			(SELECT md5(string_agg(t::text, ',' ORDER BY tenant_id, id)) FROM tenant.comments t))`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if da, db := digest(a), digest(b); da != db {
		t.Errorf("1 worker and 3 workers loaded different data:\n%s\n%s", da, db)
	}
	// Two empty databases have equal digests too: both runs must have loaded every table.
	for _, d := range []*dbtest.Database{a, b} {
		for _, table := range []string{"directory.tenants", "directory.identities", "tenant.projects", "tenant.project_members", "tenant.tasks", "tenant.comments"} {
			var n int64
			if err := d.Owner.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("%s has no rows after the seed", table)
			}
		}
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := round(90 * time.Second); got != 90*time.Second {
		t.Errorf("round(90s) = %v", got)
	}
}

// TestSeedRefusesUnknownRequiredColumn adds a NOT NULL column without a default to an empty table, as a
// migration the seed has not learnt about would, and expects the seed to stop before loading anything.
func TestSeedRefusesUnknownRequiredColumn(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	if _, err := d.Owner.Exec(context.Background(), `ALTER TABLE tenant.tasks ADD COLUMN estimate_hours integer NOT NULL`); err != nil {
		t.Fatal(err)
	}
	c, err := parseFlags([]string{"-url", d.OwnerURL, "-tenants", "20", "-large", "1", "-large-tasks", "10"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.run(context.Background()); err == nil || !strings.Contains(err.Error(), "estimate_hours") {
		t.Fatalf("seed: %v, want an error naming estimate_hours", err)
	}
	if n := count(t, d, `SELECT count(*) FROM directory.tenants`); n != 0 {
		t.Errorf("%d tenants loaded before the check stopped the seed", n)
	}
}
