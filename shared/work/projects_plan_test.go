package work

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestListQueriesUseIndexes seeds one large tenant beside many small ones (so that, as in production, one
// tenant is a small part of each table) and checks, with EXPLAIN run as the
// application role (row-level security included), that every project and activity list query reads an index
// and never scans a table sequentially.
func TestListQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	tenant, member := uuid.New(), uuid.New()
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO tenant.projects (tenant_id, id, name, created_by, status, updated_at)
			SELECT $1, gen_random_uuid(), 'project ' || i, $2, (ARRAY['active','on_hold','completed'])[1 + i % 3], now() - make_interval(mins => i)
			FROM generate_series(1, 5000) AS i`, []any{tenant, member}},
		{`INSERT INTO tenant.projects (tenant_id, id, name, created_by)
			SELECT t, gen_random_uuid(), 'small ' || i, t FROM (SELECT gen_random_uuid() AS t FROM generate_series(1, 2000)) ts, generate_series(1, 20) AS i`, nil},
		{`INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role)
			SELECT tenant_id, id, CASE WHEN random() < 0.01 THEN $1 ELSE gen_random_uuid() END, 'owner' FROM tenant.projects`, []any{member}},
		{`INSERT INTO tenant.project_name_suffixes (tenant_id, suffix, project_id)
			SELECT DISTINCT p.tenant_id, substr(w.word, i), p.id FROM tenant.projects p,
			regexp_split_to_table(lower(p.name), '[^[:alnum:]]+') AS w(word), generate_series(1, char_length(w.word)) AS i WHERE w.word <> ''`, nil},
		{`INSERT INTO tenant.activity (tenant_id, id, actor_id, entity_type, entity_id, action, created_at)
			SELECT $1, gen_random_uuid(), gen_random_uuid(), (ARRAY['project','task','comment'])[1 + i % 3], gen_random_uuid(), 'updated',
			       now() - make_interval(mins => i)
			FROM generate_series(1, 20000) AS i`, []any{tenant}},
		{`INSERT INTO tenant.activity (tenant_id, id, entity_type, entity_id, action)
			SELECT t, gen_random_uuid(), 'project', gen_random_uuid(), 'created'
			FROM (SELECT gen_random_uuid() AS t FROM generate_series(1, 2000)) ts, generate_series(1, 20)`, nil},
		// VACUUM too: GIN cost estimates read the statistics VACUUM leaves in the index's metapage, which
		// autovacuum keeps current in a running database.
		{`VACUUM ANALYZE tenant.projects`, nil},
		{`VACUUM ANALYZE tenant.project_members`, nil},
		{`VACUUM ANALYZE tenant.project_name_suffixes`, nil},
		{`VACUUM ANALYZE tenant.activity`, nil},
	} {
		if _, err := d.Owner.Exec(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
	someone := uuid.Must(uuid.NewV7())
	// cursor signs a cursor for the list of query, as a ProjectQuery parsed without a key opens it.
	cursor := func(query, order, key string) string {
		v, _ := url.ParseQuery(query)
		q, err := ParseProjectQuery(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		return projectCursor{Order: order, Key: key, After: someone}.encode(nil, q.scope)
	}
	type check struct {
		name, sql string
		args      []any
	}
	var checks []check
	for _, raw := range []string{
		"",
		"cursor=" + cursor("", "-created", ""),
		"order=created&cursor=" + cursor("order=created", "created", ""),
		"order=name&cursor=" + cursor("order=name", "name", "project 5"),
		"order=-name",
		"order=-updated&cursor=" + cursor("order=-updated", "-updated", time.Now().Add(-time.Hour).Format(time.RFC3339Nano)),
		"order=updated",
		"status=on_hold&order=name",
		"archived=true",
		"member=" + member.String(),
		"q=project+1234",
		"q=1234",
		"q=P",
		"order=name&q=" + url.QueryEscape("%"),
		"q=ject+77&order=name&status=active",
	} {
		v, _ := url.ParseQuery(raw)
		q, err := ParseProjectQuery(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		sql, args := q.listSQL(tenant)
		checks = append(checks, check{"projects ?" + raw, sql, args})
	}
	for _, raw := range []string{
		"",
		"entity_id=" + someone.String(),
		"entity_type=project",
		"actor=" + someone.String(),
		"since=" + url.QueryEscape(time.Now().Add(-48*time.Hour).Format(time.RFC3339)) + "&until=" + url.QueryEscape(time.Now().Add(-24*time.Hour).Format(time.RFC3339)),
	} {
		v, _ := url.ParseQuery(raw)
		q, err := ParseActivityQuery(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		q.Limit = 20
		sql, args := q.listSQL(tenant)
		checks = append(checks, check{"activity ?" + raw, sql, args})
	}
	for _, c := range checks {
		var plan []string
		err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, "EXPLAIN "+c.sql, c.args...)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "Index") {
			t.Errorf("%s: plan does not read an index:\n%s", c.name, text)
		}
		if testing.Verbose() {
			t.Logf("%s:\n%s", c.name, text)
		}
	}
}
