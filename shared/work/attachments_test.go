package work_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/storage"
	"github.com/coditect/hyperscale/shared/storage/storagetest"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// newBucket is the real storage client over an in-process fake.
func newBucket(t testing.TB) (*storage.Bucket, *storagetest.Fake) {
	t.Helper()
	fake := storagetest.New(t)
	b, err := storage.Open(context.Background(), fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, fake
}

// upload sends content through a signed request with a plain HTTP client, as a browser would.
func upload(t testing.TB, method, rawURL string, headers map[string]string, content string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, rawURL, res.StatusCode, body)
	}
}

func fetch(t testing.TB, rawURL string) string {
	t.Helper()
	body, _ := fetchWith(t, rawURL)
	return body
}

// fetchWith GETs rawURL, as a browser following a download link would, and returns the body and headers.
func fetchWith(t testing.TB, rawURL string) (string, http.Header) {
	t.Helper()
	res, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", rawURL, res.StatusCode, body)
	}
	return string(body), res.Header
}

func objectPath(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/"+storagetest.Bucket+"/")
}

func TestAttachmentLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	usage := work.NewUsage(d.DB)
	lt := newLiveTask(t, d, uuid.New(), "free")
	actor := uuid.New()

	up, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "notes.txt", ContentType: "Text/Plain; Charset=UTF-8", Size: 11})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	wantObject := "tenants/" + lt.tenant.String() + "/tasks/" + lt.task.String() + "/" + up.ID.String()
	if up.Status != work.AttachmentPending || up.ContentType != "text/plain; charset=UTF-8" || up.Size != 11 || up.CreatedBy != actor ||
		up.UploadMethod != http.MethodPut || objectPath(t, up.UploadURL) != wantObject || up.CompletedAt != nil ||
		up.UploadHeaders["Content-Type"] != up.ContentType || up.UploadHeaders["X-Goog-Content-Length-Range"] != "0,10485760" ||
		!up.ExpiresAt.After(time.Now()) {
		t.Fatalf("created %+v", up)
	}
	if l, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 10}); err != nil || len(l.Items) != 1 || l.Items[0].Status != work.AttachmentPending {
		t.Fatalf("list while pending = %+v, %v", l, err)
	}
	if _, err := s.Get(ctx, lt.tenant, lt.task, up.ID); !errors.Is(err, work.ErrUploadIncomplete) {
		t.Fatalf("get while pending: %v, want ErrUploadIncomplete", err)
	}
	if _, err := s.Complete(ctx, lt.tenant, actor, lt.task, up.ID); !errors.Is(err, work.ErrUploadMissing) {
		t.Fatalf("complete before the upload: %v, want ErrUploadMissing", err)
	}

	upload(t, up.UploadMethod, up.UploadURL, up.UploadHeaders, "hello world")
	a, err := s.Complete(ctx, lt.tenant, actor, lt.task, up.ID)
	if err != nil || a.Status != work.AttachmentComplete || a.Size != 11 || a.CompletedAt == nil {
		t.Fatalf("complete = %+v, %v", a, err)
	}
	if again, err := s.Complete(ctx, lt.tenant, actor, lt.task, up.ID); err != nil || again.Status != work.AttachmentComplete {
		t.Fatalf("second complete = %+v, %v; want the attachment unchanged", again, err)
	}
	if n, err := usage.StorageBytes(ctx, lt.tenant); err != nil || n != 11 {
		t.Fatalf("storage bytes = %d, %v; want 11 counted once", n, err)
	}
	dl, err := s.Get(ctx, lt.tenant, lt.task, up.ID)
	if err != nil || objectPath(t, dl.DownloadURL) != wantObject || !dl.ExpiresAt.After(time.Now()) {
		t.Fatalf("get = %+v, %v", dl, err)
	}
	const disposition = `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`
	if q, _ := url.Parse(dl.DownloadURL); q.Query().Get("response-content-disposition") != disposition ||
		q.Query().Get("response-content-type") != "text/plain; charset=UTF-8" {
		t.Fatalf("download URL %s does not make browsers save the file as notes.txt of its safe type", dl.DownloadURL)
	}
	if body, h := fetchWith(t, dl.DownloadURL); body != "hello world" || h.Get("Content-Disposition") != disposition {
		t.Fatalf("downloaded %q with %v", body, h)
	}

	second, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "b.zip", ContentType: "application/zip", Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	upload(t, second.UploadMethod, second.UploadURL, second.UploadHeaders, "12345")
	if _, err := s.Complete(ctx, lt.tenant, actor, lt.task, second.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := usage.StorageBytes(ctx, lt.tenant); n != 16 {
		t.Fatalf("storage bytes = %d, want 16", n)
	}
	l, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 1})
	if err != nil || len(l.Items) != 1 || l.Items[0].ID != second.ID || l.NextCursor == nil {
		t.Fatalf("first page = %+v, %v; want the newest attachment and a cursor", l, err)
	}

	if err := s.Delete(ctx, lt.tenant, actor, false, lt.task, up.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := fake.Object(wantObject); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("object after delete: %v, want gone", err)
	}
	if n, _ := usage.StorageBytes(ctx, lt.tenant); n != 5 {
		t.Fatalf("storage bytes after delete = %d, want 5", n)
	}
	for name, err := range map[string]error{
		"get":      func() error { _, err := s.Get(ctx, lt.tenant, lt.task, up.ID); return err }(),
		"complete": func() error { _, err := s.Complete(ctx, lt.tenant, actor, lt.task, up.ID); return err }(),
		"delete":   s.Delete(ctx, lt.tenant, actor, false, lt.task, up.ID),
	} {
		if !errors.Is(err, db.ErrNotFound) {
			t.Errorf("%s after delete: %v, want not found", name, err)
		}
	}
	// A pending attachment can be deleted too, and frees nothing.
	pending, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "never.txt", ContentType: "text/plain", Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, lt.tenant, actor, false, lt.task, pending.ID); err != nil {
		t.Fatalf("delete pending: %v", err)
	}
	if n, _ := usage.StorageBytes(ctx, lt.tenant); n != 5 {
		t.Fatalf("storage bytes after deleting a pending upload = %d, want 5", n)
	}

	if got := trail(t, d, lt.tenant, up.ID); got != "created,updated,deleted" {
		t.Fatalf("activity = %s", got)
	}
	types, added := outboxOf(t, d, lt.tenant, "attachment.")
	if types != "attachment.added,attachment.added,attachment.deleted,attachment.deleted" {
		t.Fatalf("outbox = %s", types)
	}
	if added["attachment_id"] != up.ID.String() || added["project_id"] != lt.project.String() || added["size"] != float64(11) ||
		added["filename"] != "notes.txt" {
		t.Fatalf("attachment.added payload = %v", added)
	}
}

func TestAttachmentValidation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	bucket, _ := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	lt := newLiveTask(t, d, uuid.New(), "free")
	ok := work.AttachmentInput{Filename: "a.pdf", ContentType: "application/pdf", Size: 1}
	tests := []struct {
		name   string
		edit   func(*work.AttachmentInput)
		fields []string
	}{
		{"no filename", func(in *work.AttachmentInput) { in.Filename = "" }, []string{"filename"}},
		{"blank filename", func(in *work.AttachmentInput) { in.Filename = "   " }, []string{"filename"}},
		{"long filename", func(in *work.AttachmentInput) { in.Filename = strings.Repeat("é", 256) }, []string{"filename"}},
		{"slash", func(in *work.AttachmentInput) { in.Filename = "../etc/passwd" }, []string{"filename"}},
		{"backslash", func(in *work.AttachmentInput) { in.Filename = `C:\boot.ini` }, []string{"filename"}},
		{"control character", func(in *work.AttachmentInput) { in.Filename = "a\x01.txt" }, []string{"filename"}},
		{"newline", func(in *work.AttachmentInput) { in.Filename = "a\n.txt" }, []string{"filename"}},
		{"dot dot", func(in *work.AttachmentInput) { in.Filename = ".." }, []string{"filename"}},
		{"invalid UTF-8", func(in *work.AttachmentInput) { in.Filename = "a\xff.txt" }, []string{"filename"}},
		{"no content type", func(in *work.AttachmentInput) { in.ContentType = "" }, []string{"content_type"}},
		{"not a media type", func(in *work.AttachmentInput) { in.ContentType = "pdf" }, []string{"content_type"}},
		{"no subtype", func(in *work.AttachmentInput) { in.ContentType = "text/" }, []string{"content_type"}},
		{"zero size", func(in *work.AttachmentInput) { in.Size = 0 }, []string{"size"}},
		{"negative size", func(in *work.AttachmentInput) { in.Size = -1 }, []string{"size"}},
		{"everything", func(in *work.AttachmentInput) { *in = work.AttachmentInput{} }, []string{"filename", "content_type", "size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := s.Create(context.Background(), lt.tenant, uuid.New(), lt.task, in)
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
	if _, err := s.Create(context.Background(), lt.tenant, uuid.New(), lt.task, work.AttachmentInput{Filename: "日本 résumé (1).pdf", ContentType: "application/pdf", Size: 1}); err != nil {
		t.Fatalf("a name with spaces and non-ASCII letters: %v", err)
	}
	if _, err := s.Create(context.Background(), lt.tenant, uuid.New(), uuid.New(), ok); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("attachment on a missing task: %v, want not found", err)
	}
}

// TestAttachmentPlanLimits: the declared size is checked against the organization's plan before anything is
// written, and an object larger than the limit is deleted at completion rather than counted.
func TestAttachmentPlanLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	free := newLiveTask(t, d, uuid.New(), "free")
	pro := newLiveTask(t, d, uuid.New(), "pro")
	unknown := newLiveTask(t, d, uuid.New(), "legacy-gold")

	for _, tc := range []struct {
		lt    liveTask
		size  int64
		limit int64
	}{
		{free, 10<<20 + 1, 10 << 20},
		{pro, 100<<20 + 1, 100 << 20},
		{unknown, 10<<20 + 1, 10 << 20},
	} {
		_, err := s.Create(ctx, tc.lt.tenant, uuid.New(), tc.lt.task, work.AttachmentInput{Filename: "big", ContentType: "video/mp4", Size: tc.size})
		var tl *work.TooLargeError
		if !errors.As(err, &tl) || tl.Limit != tc.limit || tl.Size != tc.size {
			t.Fatalf("declared %d bytes: %v, want a TooLargeError with limit %d", tc.size, err, tc.limit)
		}
	}
	if _, err := s.Create(ctx, pro.tenant, uuid.New(), pro.task, work.AttachmentInput{Filename: "big", ContentType: "video/mp4", Size: 50 << 20}); err != nil {
		t.Fatalf("50 MiB on the pro plan: %v", err)
	}
	var n int
	if err := d.Owner.QueryRow(ctx, `SELECT count(*) FROM tenant.attachments WHERE tenant_id = $1`, free.tenant).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d attachments stored for refused declarations", n)
	}

	// A client that declares a small file and uploads a big one.
	actor := uuid.New()
	up, err := s.Create(ctx, free.tenant, actor, free.task, work.AttachmentInput{Filename: "small.zip", ContentType: "application/zip", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	object := work.AttachmentObject(free.tenant, free.task, up.ID)
	fake.Put(object, "application/zip", make([]byte, 10<<20+1))
	var tl *work.TooLargeError
	if _, err := s.Complete(ctx, free.tenant, actor, free.task, up.ID); !errors.As(err, &tl) || tl.Size != 10<<20+1 {
		t.Fatalf("completing an oversized upload: %v, want a TooLargeError", err)
	}
	if _, err := fake.Object(object); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("oversized object kept: %v", err)
	}
	if bytes, _ := work.NewUsage(d.DB).StorageBytes(ctx, free.tenant); bytes != 0 {
		t.Fatalf("storage bytes = %d after a refused upload, want 0", bytes)
	}
	if l, _ := s.List(ctx, free.tenant, free.task, page.Request{Limit: 5}); len(l.Items) != 1 || l.Items[0].Status != work.AttachmentPending {
		t.Fatalf("after a refused upload the attachment is %+v, want it still pending", l.Items)
	}
}

// TestAttachmentDeleteRights: the uploader or a moderator may delete; another member may not.
func TestAttachmentDeleteRights(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, _ := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	lt := newLiveTask(t, d, uuid.New(), "free")
	uploader := uuid.New()
	var ids []uuid.UUID
	for i := 0; i < 2; i++ {
		up, err := s.Create(ctx, lt.tenant, uploader, lt.task, work.AttachmentInput{Filename: "f", ContentType: "text/plain", Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, up.ID)
	}
	if err := s.Delete(ctx, lt.tenant, uuid.New(), false, lt.task, ids[0]); !errors.Is(err, work.ErrNotAuthor) {
		t.Fatalf("delete by another member: %v, want ErrNotAuthor", err)
	}
	if err := s.Delete(ctx, lt.tenant, uuid.New(), true, lt.task, ids[0]); err != nil {
		t.Fatalf("delete by a moderator: %v", err)
	}
	if err := s.Delete(ctx, lt.tenant, uploader, false, lt.task, ids[1]); err != nil {
		t.Fatalf("delete by the uploader: %v", err)
	}
}

// TestAttachmentsFollowTheirTask: a deleted task's or project's attachments are hidden on every method.
func TestAttachmentsFollowTheirTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, _ := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	lt := newLiveTask(t, d, uuid.New(), "free")
	actor := uuid.New()
	up, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "f.txt", ContentType: "text/plain", Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	upload(t, up.UploadMethod, up.UploadURL, up.UploadHeaders, "hi")
	for _, parent := range []string{"tasks", "projects"} {
		id := lt.task
		if parent == "projects" {
			id = lt.project
		}
		setDeleted(t, d, parent, lt.tenant, id, true)
		for name, err := range map[string]error{
			"create": func() error {
				_, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "x", ContentType: "text/plain", Size: 1})
				return err
			}(),
			"complete": func() error { _, err := s.Complete(ctx, lt.tenant, actor, lt.task, up.ID); return err }(),
			"get":      func() error { _, err := s.Get(ctx, lt.tenant, lt.task, up.ID); return err }(),
			"list":     func() error { _, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 5}); return err }(),
			"delete":   s.Delete(ctx, lt.tenant, actor, true, lt.task, up.ID),
		} {
			if !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s with its %s deleted: %v, want not found", name, parent, err)
			}
		}
		setDeleted(t, d, parent, lt.tenant, id, false)
	}
	if a, err := s.Complete(ctx, lt.tenant, actor, lt.task, up.ID); err != nil || a.Status != work.AttachmentComplete {
		t.Fatalf("complete after the restores = %+v, %v", a, err)
	}
}

// attachmentsFixture is a live task on each side, and A's completed attachment "secret" on A's task.
type attachmentsFixture struct {
	isolation.Tenants
	s     *work.Attachments
	usage *work.Usage
	fake  *storagetest.Fake
	task  [2]liveTask
	actor uuid.UUID
	up    work.Upload
}

// The attachment store shows tenant B nothing of A's attachments, and hands B no URL to A's objects: every
// method run as B on A's task and attachment, through both walls of the isolation suite.
var _ = isolation.Register(isolation.Case[*attachmentsFixture]{
	Name:   "attachments",
	Stores: []string{"Attachments"},
	Tables: []string{"tenant.attachments", "tenant.usage_counters"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *attachmentsFixture {
		ctx := context.Background()
		bucket, fake := newBucket(t)
		f := &attachmentsFixture{Tenants: isolation.NewTenants(), s: work.NewAttachments(w.DB, bucket, work.AttachmentConfig{}), usage: work.NewUsage(w.DB),
			fake: fake, actor: uuid.New()}
		for _, side := range []isolation.Side{isolation.A, isolation.B} {
			f.task[side] = newLiveTask(t, d, f.Tenant(side), "free")
		}
		a := f.task[isolation.A]
		var err error
		if f.up, err = f.s.Create(ctx, a.tenant, f.actor, a.task, work.AttachmentInput{Filename: "secret.txt", ContentType: "text/plain", Size: 6}); err != nil {
			t.Fatal(err)
		}
		upload(t, f.up.UploadMethod, f.up.UploadURL, f.up.UploadHeaders, "secret")
		if _, err := f.s.Complete(ctx, a.tenant, f.actor, a.task, f.up.ID); err != nil {
			t.Fatal(err)
		}
		return f
	},
	Ops: []isolation.Op[*attachmentsFixture]{
		// A create on A's task fails before any URL is handed out.
		{Name: "create", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			up, err := f.s.Create(ctx, f.Tenant(as), f.actor, f.task[isolation.A].task, work.AttachmentInput{Filename: "x", ContentType: "text/plain", Size: 1})
			if up.UploadURL != "" {
				return 1, err
			}
			return 0, err
		}, Judge: func(n int, err error) error {
			if n != 0 || !errors.Is(err, db.ErrNotFound) {
				return fmt.Errorf("handed %d upload URLs (%v); want none, and not found", n, err)
			}
			return nil
		}},
		{Name: "complete", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Complete(ctx, f.Tenant(as), f.actor, f.task[isolation.A].task, f.up.ID)
			return isolation.One(err)
		}},
		{Name: "get", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Get(ctx, f.Tenant(as), f.task[isolation.A].task, f.up.ID)
			return isolation.One(err)
		}},
		{Name: "list", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			l, err := f.s.List(ctx, f.Tenant(as), f.task[isolation.A].task, page.Request{Limit: 5})
			return isolation.Len(l.Items, err)
		}},
		{Name: "delete", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			return isolation.One(f.s.Delete(ctx, f.Tenant(as), f.actor, true, f.task[isolation.A].task, f.up.ID))
		}},
		// B's own task id with A's attachment id: the attachment must match the task and the tenant.
		{Name: "get via own task", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Get(ctx, f.Tenant(as), f.task[as].task, f.up.ID)
			return isolation.One(err)
		}},
		{Name: "delete via own task", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			return isolation.One(f.s.Delete(ctx, f.Tenant(as), f.actor, true, f.task[as].task, f.up.ID))
		}},
		{Name: "list own task", Want: isolation.Nothing, Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			l, err := f.s.List(ctx, f.Tenant(as), f.task[as].task, page.Request{Limit: 100})
			return isolation.Len(l.Items, err)
		}},
		{Name: "storage bytes", Want: isolation.Nothing, Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			n, err := f.usage.StorageBytes(ctx, f.Tenant(as))
			return int(n), err
		}},
		// B's own upload is named under B's prefix, never A's.
		{Name: "create on own task", Run: func(ctx context.Context, f *attachmentsFixture, as isolation.Side) (int, error) {
			own, err := f.s.Create(ctx, f.Tenant(as), f.actor, f.task[as].task, work.AttachmentInput{Filename: "mine.txt", ContentType: "text/plain", Size: 1})
			if err != nil {
				return 0, err
			}
			u, err := url.Parse(own.UploadURL)
			if err != nil {
				return 0, err
			}
			if p := strings.TrimPrefix(u.Path, "/"+storagetest.Bucket+"/"); !strings.HasPrefix(p, "tenants/"+f.Tenant(as).String()+"/") {
				return 0, fmt.Errorf("upload URL names %s, outside tenants/%s/", p, f.Tenant(as))
			}
			return 1, nil
		}, Judge: func(n int, err error) error {
			if err != nil || n != 1 {
				return fmt.Errorf("B's upload on its own task: %d, %v; want one URL under its own prefix", n, err)
			}
			return nil
		}},
	},
	Check: func(t *testing.T, d *dbtest.Database, f *attachmentsFixture) {
		a := f.task[isolation.A]
		if content, err := f.fake.Object(work.AttachmentObject(a.tenant, a.task, f.up.ID)); err != nil || string(content) != "secret" {
			t.Errorf("A's object after B's attempt: %q, %v", content, err)
		}
		if dl, err := f.s.Get(context.Background(), a.tenant, a.task, f.up.ID); err != nil || fetch(t, dl.DownloadURL) != "secret" {
			t.Errorf("A's download after B's attempt: %v", err)
		}
	},
})

// usageFixture: A's storage gauge reads 999 from 2026-11-03 on; B's reads 100 from 2026-11-01.
type usageFixture struct {
	isolation.Tenants
	u *work.Usage
}

// The usage store reads only the acting tenant's counters, with or without row-level security: B's gauge on
// a day A changed is B's own value.
var _ = isolation.Register(isolation.Case[*usageFixture]{
	Name:   "usage counters",
	Stores: []string{"Usage"},
	Tables: []string{"tenant.usage_counters"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *usageFixture {
		f := &usageFixture{Tenants: isolation.NewTenants(), u: work.NewUsage(w.DB)}
		for _, r := range []struct {
			side  isolation.Side
			day   string
			value int64
		}{{isolation.B, "2026-11-01", 100}, {isolation.A, "2026-11-03", 999}} {
			if _, err := d.Owner.Exec(context.Background(), `INSERT INTO tenant.usage_counters (tenant_id, metric, day, value) VALUES ($1, $2, $3, $4)`,
				f.Tenant(r.side), work.MetricStorageBytes, r.day, r.value); err != nil {
				t.Fatal(err)
			}
		}
		return f
	},
	Ops: []isolation.Op[*usageFixture]{
		// Run returns the gauge's value: B must read its own 100, not A's 999.
		{Name: "gauge", Run: func(ctx context.Context, f *usageFixture, as isolation.Side) (int, error) {
			at, _ := time.Parse(time.DateOnly, "2026-11-03")
			n, err := f.u.Gauge(ctx, f.Tenant(as), work.MetricStorageBytes, at.Add(23*time.Hour))
			return int(n), err
		}, Judge: func(n int, err error) error {
			if err != nil || n != 100 {
				return fmt.Errorf("storage bytes on 2026-11-03 = %d, %v; want 100 (not the other tenant's 999)", n, err)
			}
			return nil
		}},
	},
})

// TestStorageUsageIsExactUnderConcurrency completes uploads at once: the counter ends at their sum.
func TestStorageUsageIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	lt := newLiveTask(t, d, uuid.New(), "free")
	actor := uuid.New()
	var ids []uuid.UUID
	var want int64
	for i := 1; i <= 8; i++ {
		up, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "f", ContentType: "text/plain", Size: int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		fake.Put(work.AttachmentObject(lt.tenant, lt.task, up.ID), "text/plain", make([]byte, i*100))
		ids = append(ids, up.ID)
		want += int64(i * 100)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Go(func() {
			_, err := s.Complete(ctx, lt.tenant, actor, lt.task, id)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := work.NewUsage(d.DB).StorageBytes(ctx, lt.tenant); err != nil || n != want {
		t.Fatalf("storage bytes = %d, %v; want %d", n, err, want)
	}
}

// TestUsageGaugeCarriesForward: a day without changes has the value of the newest earlier day.
func TestUsageGaugeCarriesForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	u := work.NewUsage(d.DB)
	tenant, other := uuid.New(), uuid.New()
	for _, r := range []struct {
		tenant uuid.UUID
		day    string
		value  int64
	}{
		{tenant, "2026-11-01", 100},
		{tenant, "2026-11-05", 250},
		{other, "2026-11-03", 999},
	} {
		if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.usage_counters (tenant_id, metric, day, value) VALUES ($1, $2, $3, $4)`,
			r.tenant, work.MetricStorageBytes, r.day, r.value); err != nil {
			t.Fatal(err)
		}
	}
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t.Add(23 * time.Hour) }
	for at, want := range map[string]int64{"2026-10-31": 0, "2026-11-01": 100, "2026-11-04": 100, "2026-11-05": 250, "2026-12-01": 250} {
		if n, err := u.Gauge(ctx, tenant, work.MetricStorageBytes, day(at)); err != nil || n != want {
			t.Errorf("storage bytes at the end of %s = %d, %v; want %d", at, n, err, want)
		}
	}
	if n, err := u.StorageBytes(ctx, tenant); err != nil || n != 250 {
		t.Fatalf("current storage bytes = %d, %v; want 250", n, err)
	}
	if n, err := u.StorageBytes(ctx, uuid.New()); err != nil || n != 0 {
		t.Fatalf("a tenant without usage has %d bytes, %v", n, err)
	}
	// Another tenant's rows are not read, with or without row-level security: the usage case of the isolation
	// suite.
}
