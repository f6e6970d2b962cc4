package work_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

func TestProjectLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB.Tenants)
	tenant, actor := uuid.New(), uuid.New()

	p, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "  Apollo  ", Description: "moon"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if p.Name != "Apollo" || p.CreatedBy != actor || p.ID.Version() != 7 {
		t.Fatalf("created %+v; want trimmed name, actor as creator and a UUIDv7 id", p)
	}
	got, err := s.Get(ctx, tenant, p.ID)
	if err != nil || got != p {
		t.Fatalf("get = %+v, %v; want %+v", got, err, p)
	}
	up, err := s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "Artemis", Description: "moon"})
	if err != nil || up.Name != "Artemis" || !up.UpdatedAt.After(p.UpdatedAt) && !up.UpdatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("update = %+v, %v", up, err)
	}
	if _, err := s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "Artemis", Description: "moon"}); err != nil {
		t.Fatalf("no-op update: %v", err)
	}
	if err := s.Delete(ctx, tenant, actor, p.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.Get(ctx, tenant, p.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("get after delete: %v, want not found", err)
	}
	if err := s.Delete(ctx, tenant, actor, p.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("second delete: %v, want not found", err)
	}
	if _, err := s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "x"}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("update after delete: %v, want not found", err)
	}
	list, err := s.List(ctx, tenant, page.Request{Limit: 10})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("list after delete: %+v, %v; want empty", list, err)
	}

	// Each write left one activity row and one outbox event in its transaction; the no-op update left none.
	rows, err := d.Owner.Query(ctx, `SELECT action FROM tenant.activity WHERE tenant_id = $1 AND entity_id = $2 ORDER BY id`, tenant, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		actions = append(actions, a)
	}
	if strings.Join(actions, ",") != "created,updated,deleted" {
		t.Fatalf("activity = %v, want created,updated,deleted", actions)
	}
	var changes string
	if err := d.Owner.QueryRow(ctx, `SELECT changes::text FROM tenant.activity WHERE tenant_id = $1 AND action = 'updated'`, tenant).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	if changes != `{"name": {"new": "Artemis", "old": "Apollo"}}` {
		t.Fatalf("update changes = %s, want only the name's old and new value", changes)
	}
	var types string
	if err := d.Owner.QueryRow(ctx, `SELECT string_agg(type, ',' ORDER BY id) FROM tenant.outbox WHERE tenant_id = $1`, tenant).Scan(&types); err != nil {
		t.Fatal(err)
	}
	if types != "project.created,project.updated,project.deleted" {
		t.Fatalf("outbox = %s", types)
	}
}

func TestProjectValidation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB.Tenants)
	tests := []struct {
		name   string
		in     work.ProjectInput
		fields []string
	}{
		{"empty name", work.ProjectInput{Name: "   "}, []string{"name"}},
		{"long name", work.ProjectInput{Name: strings.Repeat("é", work.MaxNameLength+1)}, []string{"name"}},
		{"long description", work.ProjectInput{Name: "ok", Description: strings.Repeat("x", work.MaxDescriptionLength+1)}, []string{"description"}},
		{"NUL in both", work.ProjectInput{Name: "a\x00", Description: "\x00"}, []string{"name", "description"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Create(context.Background(), uuid.New(), uuid.New(), tc.in)
			var fe valid.Errors
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want validation errors", err)
			}
			var fields []string
			for _, f := range fe {
				fields = append(fields, f.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("failing fields = %v, want %v", fields, tc.fields)
			}
		})
	}
	var n int
	if err := d.Owner.QueryRow(context.Background(), `SELECT count(*) FROM tenant.projects`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d projects stored by invalid requests", n)
	}
}

// TestAnotherTenantSeesNothing runs every store method as tenant B against tenant A's project, once as the
// application role (tenant filter and row-level security) and once as the owner, which bypasses RLS, so the
// tenant filter in each query is shown to hold on its own.
func TestAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	for _, wall := range []struct {
		name    string
		tenants *db.Tenants
	}{
		{"application role", d.DB.Tenants},
		{"owner without RLS", d.OwnerDB.Tenants},
	} {
		t.Run(wall.name, func(t *testing.T) {
			s := work.NewProjects(wall.tenants)
			a, b, actor := uuid.New(), uuid.New(), uuid.New()
			p, err := s.Create(ctx, a, actor, work.ProjectInput{Name: "A's secret"})
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				call func() error
			}{
				{"get", func() error { _, err := s.Get(ctx, b, p.ID); return err }},
				{"update", func() error { _, err := s.Update(ctx, b, actor, p.ID, work.ProjectInput{Name: "taken"}); return err }},
				{"delete", func() error { return s.Delete(ctx, b, actor, p.ID) }},
			}
			for _, tc := range tests {
				if err := tc.call(); !errors.Is(err, db.ErrNotFound) {
					t.Fatalf("%s: got %v, want not found", tc.name, err)
				}
			}
			l, err := s.List(ctx, b, page.Request{Limit: 100})
			if err != nil || len(l.Items) != 0 {
				t.Fatalf("B lists %d projects (%v), want none", len(l.Items), err)
			}
			still, err := s.Get(ctx, a, p.ID)
			if err != nil || still.Name != "A's secret" {
				t.Fatalf("A's project after B's attempts: %+v, %v", still, err)
			}
		})
	}
}

// TestListPaginatesEveryRowOnce inserts rows between page reads: every row that existed when the walk began
// is seen exactly once, and newer rows (which sort first) never shift the pages that follow.
func TestListPaginatesEveryRowOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB.Tenants)
	tenant, actor := uuid.New(), uuid.New()
	want := map[uuid.UUID]bool{}
	for i := 0; i < 23; i++ {
		p, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "p"})
		if err != nil {
			t.Fatal(err)
		}
		want[p.ID] = true
	}
	seen := map[uuid.UUID]int{}
	req := page.Request{Limit: 5}
	pages := 0
	for {
		pg, err := s.List(ctx, tenant, req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range pg.Items {
			seen[p.ID]++
		}
		if _, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "inserted between pages"}); err != nil {
			t.Fatal(err)
		}
		if pg.NextCursor == nil {
			break
		}
		next, err := page.Parse(map[string][]string{"cursor": {*pg.NextCursor}, "limit": {"5"}})
		if err != nil {
			t.Fatal(err)
		}
		req = next
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("project %s seen %d times, want once", id, seen[id])
		}
	}
	for id, n := range seen {
		if !want[id] || n != 1 {
			t.Errorf("project %s seen %d times (pre-existing %v)", id, n, want[id])
		}
	}
	if pages != 5 {
		t.Errorf("walked %d pages of 5 over 23 rows, want 5", pages)
	}
}
