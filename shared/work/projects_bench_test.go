package work_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// benchProjects seeds one tenant with n projects beside 50 other tenants of 20 each, so the benchmarks read
// through the tenant-leading indexes rather than a table holding one tenant.
func benchProjects(b *testing.B, n int) (*work.Projects, uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	d := dbtest.New(b)
	s := work.NewProjects(d.DB.Tenants)
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
	for i := 0; i < 50; i++ {
		seed(uuid.New(), 20)
	}
	tenant := uuid.New()
	ids := seed(tenant, n)
	if _, err := d.Owner.Exec(ctx, `ANALYZE tenant.projects`); err != nil {
		b.Fatal(err)
	}
	return s, tenant, ids
}

func BenchmarkProjectsList(b *testing.B) {
	s, tenant, ids := benchProjects(b, 5000)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  page.Request
	}{
		{"first page of 20", page.Request{Limit: 20}},
		{"deep page of 20", page.Request{Limit: 20, After: ids[len(ids)/2]}},
		{"page of 100", page.Request{Limit: 100}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.List(ctx, tenant, tc.req)
				if err != nil || len(p.Items) != tc.req.Limit {
					b.Fatalf("list: %d items, %v", len(p.Items), err)
				}
			}
		})
	}
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
