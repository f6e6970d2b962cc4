package work_test

import (
	"context"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// benchTaskChildren seeds one task with n comments and n complete attachments beside 50 other tenants with a
// task of 20 each, so the benchmarks read through the tenant-leading indexes rather than a table of one task.
func benchTaskChildren(b *testing.B, n int) (*dbtest.Database, liveTask, []uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	d := dbtest.New(b)
	seed := func(lt liveTask, count int) ([]uuid.UUID, []uuid.UUID) {
		comments, attachments := make([]uuid.UUID, count), make([]uuid.UUID, count)
		for i := range comments {
			comments[i], attachments[i] = uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		}
		// Owner-side bulk insert: seeding is not what is measured.
		if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.comments (tenant_id, id, task_id, author_id, body)
			SELECT $1, id, $2, $1, 'comment ' || ord FROM unnest($3::uuid[]) WITH ORDINALITY AS u(id, ord)`, lt.tenant, lt.task, comments); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.attachments (tenant_id, id, task_id, filename, content_type, size, object_name, status, created_by)
			SELECT $1, id, $2, 'file ' || ord, 'text/plain', ord, $4 || id::text, 'complete', $1
			FROM unnest($3::uuid[]) WITH ORDINALITY AS u(id, ord)`, lt.tenant, lt.task, attachments,
			"tenants/"+lt.tenant.String()+"/tasks/"+lt.task.String()+"/"); err != nil {
			b.Fatal(err)
		}
		return comments, attachments
	}
	for i := 0; i < 50; i++ {
		seed(newLiveTask(b, d, uuid.New(), "free"), 20)
	}
	lt := newLiveTask(b, d, uuid.New(), "free")
	comments, attachments := seed(lt, n)
	if _, err := d.Owner.Exec(ctx, `ANALYZE tenant.comments, tenant.attachments, tenant.tasks, tenant.projects`); err != nil {
		b.Fatal(err)
	}
	return d, lt, comments, attachments
}

func BenchmarkCommentsList(b *testing.B) {
	d, lt, ids, _ := benchTaskChildren(b, 2000)
	s := work.NewComments(d.DB)
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
				p, err := s.List(ctx, lt.tenant, lt.task, tc.req)
				if err != nil || len(p.Items) != tc.req.Limit {
					b.Fatalf("list: %d items, %v", len(p.Items), err)
				}
			}
		})
	}
}

func BenchmarkAttachmentsList(b *testing.B) {
	d, lt, _, ids := benchTaskChildren(b, 2000)
	bucket, _ := newBucket(b)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
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
				p, err := s.List(ctx, lt.tenant, lt.task, tc.req)
				if err != nil || len(p.Items) != tc.req.Limit {
					b.Fatalf("list: %d items, %v", len(p.Items), err)
				}
			}
		})
	}
}

// BenchmarkCommentsCreate includes the task check, the activity row and the outbox event of the transaction.
func BenchmarkCommentsCreate(b *testing.B) {
	d, lt, _, _ := benchTaskChildren(b, 10)
	s := work.NewComments(d.DB)
	ctx := context.Background()
	actor := uuid.New()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Create(ctx, lt.tenant, actor, lt.task, work.CommentInput{Body: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
