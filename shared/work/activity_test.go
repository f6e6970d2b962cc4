package work_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/valid/validtest"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

func activityQuery(t testing.TB, raw string) work.ActivityQuery {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := work.ParseActivityQuery(v, testCursors)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return q
}

func TestActivityTrailFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	trail := work.NewActivityTrail(d.DB)
	tenant, ann, ben := uuid.New(), uuid.New(), uuid.New()

	p1, err := s.Create(ctx, tenant, ann, work.ProjectInput{Name: "one"})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Create(ctx, tenant, ben, work.ProjectInput{Name: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, tenant, ben, p1.ID, work.ProjectInput{Name: "uno"}); err != nil {
		t.Fatal(err)
	}
	// A row of another entity type, as another store would write it.
	other := uuid.New()
	if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.activity (tenant_id, id, actor_id, entity_type, entity_id, action)
		VALUES ($1, $2, NULL, 'task', $3, 'created')`, tenant, uuid.Must(uuid.NewV7()), other); err != nil {
		t.Fatal(err)
	}
	// Place the rows at known times: p1 created a day ago, p2 an hour ago, the update and the task now.
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, shift := range []struct {
		entity uuid.UUID
		action string
		at     time.Time
	}{{p1.ID, "created", now.Add(-24 * time.Hour)}, {p2.ID, "created", now.Add(-time.Hour)}} {
		if _, err := d.Owner.Exec(ctx, `UPDATE tenant.activity SET created_at = $3 WHERE entity_id = $1 AND action = $2`, shift.entity, shift.action, shift.at); err != nil {
			t.Fatal(err)
		}
	}

	type row struct {
		entity uuid.UUID
		action string
	}
	tests := []struct {
		query string
		want  []row
	}{
		{"", []row{{other, "created"}, {p1.ID, "updated"}, {p2.ID, "created"}, {p1.ID, "created"}}},
		{"entity_type=project", []row{{p1.ID, "updated"}, {p2.ID, "created"}, {p1.ID, "created"}}},
		{"entity_type=task", []row{{other, "created"}}},
		{"entity_id=" + p1.ID.String(), []row{{p1.ID, "updated"}, {p1.ID, "created"}}},
		{"entity_type=project&entity_id=" + other.String(), nil},
		{"actor=" + ben.String(), []row{{p1.ID, "updated"}, {p2.ID, "created"}}},
		{"actor=" + ann.String() + "&entity_id=" + p1.ID.String(), []row{{p1.ID, "created"}}},
		{"since=" + url.QueryEscape(now.Add(-2*time.Hour).Format(time.RFC3339Nano)), []row{{other, "created"}, {p1.ID, "updated"}, {p2.ID, "created"}}},
		{"until=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339Nano)), []row{{p1.ID, "created"}}},
		{"since=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339Nano)) + "&until=" + url.QueryEscape(now.Add(-time.Minute).Format(time.RFC3339)), []row{{p2.ID, "created"}}},
		{"actor=" + uuid.NewString(), nil},
	}
	for _, tc := range tests {
		l, err := trail.List(ctx, tenant, activityQuery(t, tc.query))
		if err != nil {
			t.Fatal(err)
		}
		var got []row
		for _, e := range l.Items {
			got = append(got, row{e.EntityID, e.Action})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("?%s = %v, want %v", tc.query, got, tc.want)
		}
	}

	// The API's shape: the update's changes as old and new values, a null actor for the platform's row.
	l, err := trail.List(ctx, tenant, activityQuery(t, "limit=2"))
	if err != nil || len(l.Items) != 2 || l.NextCursor == nil {
		t.Fatalf("first two: %+v, %v", l, err)
	}
	b, err := json.Marshal(l.Items)
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if k := keys(items[0]); !slices.Equal(k, []string{"action", "actor_id", "changes", "created_at", "entity_id", "entity_type", "id"}) {
		t.Fatalf("activity item keys = %v", k)
	}
	if items[0]["actor_id"] != nil || items[1]["actor_id"] != ben.String() {
		t.Fatalf("actors = %v, %v", items[0]["actor_id"], items[1]["actor_id"])
	}
	if c, _ := json.Marshal(items[1]["changes"]); string(c) != `{"name":{"new":"uno","old":"one"}}` {
		t.Fatalf("changes = %s", c)
	}
}

func TestParseActivityQuery(t *testing.T) {
	t.Parallel()
	projectCursor := "eyJvIjoibmFtZSIsImsiOiJhIiwiYSI6IjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMSJ9"
	tests := []struct {
		query  string
		fields []string
	}{
		{"", nil},
		{"entity_type=project&entity_id=" + uuid.NewString() + "&actor=" + uuid.NewString() + "&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00.5%2B01:00&limit=100", nil},
		{"entity_type=Project", []string{"entity_type"}},
		{"entity_type=project%3Bdrop", []string{"entity_type"}},
		{"entity_id=42", []string{"entity_id"}},
		{"actor=me", []string{"actor"}},
		{"since=yesterday", []string{"since"}},
		{"until=2026-01-01", []string{"until"}},
		{"since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", []string{"until"}},
		{"since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", []string{"until"}},
		{"limit=101", []string{"limit"}},
		{"cursor=zzz", []string{"cursor"}},
		{"cursor=" + projectCursor, []string{"cursor"}},
		{"entity_id=x&actor=y&since=z&until=w&cursor=v", []string{"entity_id", "actor", "since", "until", "cursor"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = work.ParseActivityQuery(v, testCursors)
			if got := validtest.Fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("failing fields = %v (%v), want %v", got, err, tc.fields)
			}
		})
	}
}

// TestActivityPaginatesEveryRowOnce writes activity between page reads: every row that existed when the walk
// began is seen exactly once, newest first, and the newer rows never shift the pages that follow.
func TestActivityPaginatesEveryRowOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	trail := work.NewActivityTrail(d.DB)
	tenant, actor := uuid.New(), uuid.New()
	for i := 0; i < 23; i++ {
		if _, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "p"}); err != nil {
			t.Fatal(err)
		}
	}
	want := strs(t, d, `SELECT id::text FROM tenant.activity WHERE tenant_id = $1`, tenant)
	var seen []work.ActivityEntry
	q := activityQuery(t, "limit=5&entity_type=project")
	for pages := 0; ; pages++ {
		pg, err := trail.List(ctx, tenant, q)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, pg.Items...)
		if _, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "inserted between pages"}); err != nil {
			t.Fatal(err)
		}
		if pg.NextCursor == nil {
			if pages != 4 {
				t.Errorf("walked %d pages of 5 over 23 rows, want 5", pages+1)
			}
			break
		}
		q = activityQuery(t, "limit=5&entity_type=project&cursor="+*pg.NextCursor)
	}
	count := map[string]int{}
	for _, e := range seen {
		count[e.ID.String()]++
	}
	for _, id := range want {
		if count[id] != 1 {
			t.Errorf("row %s seen %d times, want once", id, count[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("saw %d rows, want the %d that existed", len(seen), len(want))
	}
	if !slices.IsSortedFunc(seen, func(a, b work.ActivityEntry) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return slices.Compare(b.ID[:], a.ID[:])
	}) {
		t.Error("the trail is not newest first")
	}
}

// BenchmarkActivityList reads pages of a tenant with 50,000 activity rows beside 100 small tenants.
func BenchmarkActivityList(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	trail := work.NewActivityTrail(d.DB)
	tenant, actor, entity := uuid.New(), uuid.New(), uuid.New()
	// Owner-side bulk insert: one entity with 500 rows, ten actors, a row a minute back in time.
	if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.activity (tenant_id, id, actor_id, entity_type, entity_id, action, created_at)
		SELECT $1, gen_random_uuid(), CASE WHEN i % 10 = 0 THEN $2 ELSE gen_random_uuid() END,
		       CASE WHEN i % 20 = 0 THEN 'project' ELSE 'task' END, CASE WHEN i % 100 = 0 THEN $3 ELSE gen_random_uuid() END,
		       'updated', now() - make_interval(mins => i)
		FROM generate_series(1, 50000) AS i`, tenant, actor, entity); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.activity (tenant_id, id, entity_type, entity_id, action)
		SELECT t, gen_random_uuid(), 'project', gen_random_uuid(), 'created'
		FROM (SELECT gen_random_uuid() AS t FROM generate_series(1, 100)) ts, generate_series(1, 20)`); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Owner.Exec(ctx, `ANALYZE tenant.activity`); err != nil {
		b.Fatal(err)
	}
	since := url.QueryEscape(time.Now().Add(-20 * 24 * time.Hour).Format(time.RFC3339))
	until := url.QueryEscape(time.Now().Add(-10 * 24 * time.Hour).Format(time.RFC3339))
	for _, tc := range []struct{ name, query string }{
		{"newest page", "limit=20"},
		{"entity", "limit=20&entity_id=" + entity.String()},
		{"entity type", "limit=20&entity_type=project"},
		{"actor", "limit=20&actor=" + actor.String()},
		{"time range", "limit=20&since=" + since + "&until=" + until},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := activityQuery(b, tc.query)
			b.ReportAllocs()
			for b.Loop() {
				pg, err := trail.List(ctx, tenant, q)
				if err != nil || len(pg.Items) != 20 {
					b.Fatalf("list: %d items, %v", len(pg.Items), err)
				}
			}
		})
	}
}
