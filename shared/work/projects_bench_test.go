package work_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// benchProjects seeds one tenant with n projects beside 2,000 other tenants of 20 each, so the benchmarks read
// through the tenant-leading indexes of a table in which one tenant is a small part, as in production.
func benchProjects(b *testing.B, n int) (*work.Projects, uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	d := dbtest.New(b)
	s := work.NewProjects(d.DB)
	seed := func(tenant uuid.UUID, count int) []uuid.UUID {
		// Owner-side bulk insert: seeding is not what is measured.
		ids := make([]uuid.UUID, count)
		for i := range ids {
			ids[i] = uuid.Must(uuid.NewV7())
		}
		if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, created_by)
			SELECT $1, id, 'project ' || ord, $1 FROM unnest($2::uuid[]) WITH ORDINALITY AS u(id, ord)`, tenant, ids); err != nil {
			b.Fatal(err)
		}
		return ids
	}
	others := make([]uuid.UUID, 2000)
	for i := range others {
		others[i] = uuid.New()
	}
	if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, created_by)
		SELECT t, gen_random_uuid(), 'project ' || i, t FROM unnest($1::uuid[]) AS t, generate_series(1, 20) AS i`, others); err != nil {
		b.Fatal(err)
	}
	tenant := uuid.New()
	ids := seed(tenant, n)
	// Every project has its creator as owner and its name's search rows, as Create leaves them.
	for _, stmt := range []string{
		`INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role) SELECT tenant_id, id, created_by, 'owner' FROM tenant.projects`,
		// The search rows Create writes, as the migration's backfill computes them.
		`INSERT INTO tenant.project_name_suffixes (tenant_id, suffix, project_id)
			SELECT DISTINCT p.tenant_id, substr(w.word, i), p.id FROM tenant.projects p,
			regexp_split_to_table(lower(p.name), '[^[:alnum:]]+') AS w(word), generate_series(1, char_length(w.word)) AS i WHERE w.word <> ''`,
		`ANALYZE tenant.projects`,
		`ANALYZE tenant.project_members`,
		`ANALYZE tenant.project_name_suffixes`,
	} {
		if _, err := d.Owner.Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	return s, tenant, ids
}

func BenchmarkProjectsList(b *testing.B) {
	s, tenant, ids := benchProjects(b, 5000)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		query string
		limit int
	}{
		{"first page of 20", "limit=20", 20},
		{"page of 100", "limit=100", 100},
		{"by name", "limit=20&order=name", 20},
		{"by update, newest first", "limit=20&order=-updated", 20},
		{"status filter", "limit=20&status=active", 20},
		{"search", "limit=20&q=project+42", 20},
		{"member filter", "limit=20&member=" + tenant.String(), 20},
		{"filters and search by name", "limit=20&status=active&member=" + tenant.String() + "&q=project+42&order=name", 20},
	} {
		b.Run(tc.name, func(b *testing.B) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				b.Fatal(err)
			}
			q, err := work.ParseProjectQuery(v, testCursors)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.List(ctx, tenant, q)
				if err != nil || len(p.Items) != tc.limit {
					b.Fatalf("list: %d items, %v", len(p.Items), err)
				}
			}
		})
	}
	b.Run("deep page of 20", func(b *testing.B) {
		q, err := work.ParseProjectQuery(url.Values{"limit": {"20"}}, testCursors)
		if err != nil {
			b.Fatal(err)
		}
		// Walk to the middle once; the benchmark then reads the page after it.
		for range len(ids) / 2 / 20 {
			p, err := s.List(ctx, tenant, q)
			if err != nil || p.NextCursor == nil {
				b.Fatalf("walk: %v", err)
			}
			if q, err = work.ParseProjectQuery(url.Values{"limit": {"20"}, "cursor": {*p.NextCursor}}, testCursors); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			p, err := s.List(ctx, tenant, q)
			if err != nil || len(p.Items) != 20 {
				b.Fatalf("list: %d items, %v", len(p.Items), err)
			}
		}
	})
}

func BenchmarkProjectsGet(b *testing.B) {
	s, tenant, ids := benchProjects(b, 5000)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, tenant, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkProjectsCreate includes the activity row and the outbox event written in the same transaction.
func BenchmarkProjectsCreate(b *testing.B) {
	s, tenant, _ := benchProjects(b, 10)
	ctx := context.Background()
	actor := uuid.New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: fmt.Sprintf("bench %d", i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkProjectMembersList reads the first page of a project's members, 200 of them.
func BenchmarkProjectMembersList(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	s := work.NewProjects(d.DB)
	tenant, owner := uuid.New(), uuid.New()
	p, err := s.Create(ctx, tenant, owner, work.ProjectInput{Name: "big team"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role)
		SELECT $1, $2, gen_random_uuid(), 'member' FROM generate_series(1, 199)`, tenant, p.ID); err != nil {
		b.Fatal(err)
	}
	m := work.NewProjectMembers(d.DB)
	b.ReportAllocs()
	for b.Loop() {
		pg, err := m.List(ctx, tenant, p.ID, page.Request{Limit: 50})
		if err != nil || len(pg.Items) != 50 {
			b.Fatalf("list: %d items, %v", len(pg.Items), err)
		}
	}
}
