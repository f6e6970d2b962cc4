package work_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
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
	res, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", rawURL, res.StatusCode, body)
	}
	return string(body)
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
	s := work.NewAttachments(d.DB, bucket)
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
	if n := storageBytes(t, d, lt.tenant); n != 11 {
		t.Fatalf("storage bytes = %d; want 11 counted once", n)
	}
	dl, err := s.Get(ctx, lt.tenant, lt.task, up.ID)
	if err != nil || objectPath(t, dl.DownloadURL) != wantObject || !dl.ExpiresAt.After(time.Now()) {
		t.Fatalf("get = %+v, %v", dl, err)
	}
	if q, _ := url.Parse(dl.DownloadURL); q.Query().Get("response-content-disposition") != "attachment; filename=notes.txt" {
		t.Fatalf("download URL %s does not make browsers save the file as notes.txt", dl.DownloadURL)
	}
	if body := fetch(t, dl.DownloadURL); body != "hello world" {
		t.Fatalf("downloaded %q", body)
	}

	second, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "b.bin", ContentType: "application/octet-stream", Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	upload(t, second.UploadMethod, second.UploadURL, second.UploadHeaders, "12345")
	if _, err := s.Complete(ctx, lt.tenant, actor, lt.task, second.ID); err != nil {
		t.Fatal(err)
	}
	if n := storageBytes(t, d, lt.tenant); n != 16 {
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
	if n := storageBytes(t, d, lt.tenant); n != 5 {
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
	if n := storageBytes(t, d, lt.tenant); n != 5 {
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
	s := work.NewAttachments(d.DB, bucket)
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
	s := work.NewAttachments(d.DB, bucket)
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
	up, err := s.Create(ctx, free.tenant, actor, free.task, work.AttachmentInput{Filename: "small.bin", ContentType: "application/octet-stream", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	object := work.AttachmentObject(free.tenant, free.task, up.ID)
	fake.Put(object, "application/octet-stream", make([]byte, 10<<20+1))
	var tl *work.TooLargeError
	if _, err := s.Complete(ctx, free.tenant, actor, free.task, up.ID); !errors.As(err, &tl) || tl.Size != 10<<20+1 {
		t.Fatalf("completing an oversized upload: %v, want a TooLargeError", err)
	}
	if _, err := fake.Object(object); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("oversized object kept: %v", err)
	}
	if bytes := storageBytes(t, d, free.tenant); bytes != 0 {
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
	s := work.NewAttachments(d.DB, bucket)
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
	s := work.NewAttachments(d.DB, bucket)
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

// TestAttachmentsAnotherTenantSeesNothing runs every method as tenant B on tenant A's task and attachment,
// as the application role and as the owner (no RLS). B never gets a URL: its only objects are named under
// its own prefix, and a create on A's task fails before any URL is handed out.
func TestAttachmentsAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	for _, wall := range []struct {
		name string
		db   *db.DB
	}{
		{"application role", d.DB},
		{"owner without RLS", d.OwnerDB},
	} {
		t.Run(wall.name, func(t *testing.T) {
			s := work.NewAttachments(wall.db, bucket)
			a := newLiveTask(t, d, uuid.New(), "free")
			b := newLiveTask(t, d, uuid.New(), "free")
			actor := uuid.New()
			up, err := s.Create(ctx, a.tenant, actor, a.task, work.AttachmentInput{Filename: "secret.txt", ContentType: "text/plain", Size: 6})
			if err != nil {
				t.Fatal(err)
			}
			upload(t, up.UploadMethod, up.UploadURL, up.UploadHeaders, "secret")
			if _, err := s.Complete(ctx, a.tenant, actor, a.task, up.ID); err != nil {
				t.Fatal(err)
			}
			var leaked work.Upload
			for name, err := range map[string]error{
				"create": func() (err error) {
					leaked, err = s.Create(ctx, b.tenant, actor, a.task, work.AttachmentInput{Filename: "x", ContentType: "text/plain", Size: 1})
					return err
				}(),
				"complete": func() error { _, err := s.Complete(ctx, b.tenant, actor, a.task, up.ID); return err }(),
				"get":      func() error { _, err := s.Get(ctx, b.tenant, a.task, up.ID); return err }(),
				"list":     func() error { _, err := s.List(ctx, b.tenant, a.task, page.Request{Limit: 5}); return err }(),
				"delete":   s.Delete(ctx, b.tenant, actor, true, a.task, up.ID),
				// B's own task id with A's attachment id: the attachment must match the task and the tenant.
				"get via own task":    func() error { _, err := s.Get(ctx, b.tenant, b.task, up.ID); return err }(),
				"delete via own task": s.Delete(ctx, b.tenant, actor, true, b.task, up.ID),
			} {
				if !errors.Is(err, db.ErrNotFound) {
					t.Errorf("%s: %v, want not found", name, err)
				}
			}
			if leaked.UploadURL != "" {
				t.Fatalf("B was handed an upload URL %s", leaked.UploadURL)
			}
			if l, err := s.List(ctx, b.tenant, b.task, page.Request{Limit: 100}); err != nil || len(l.Items) != 0 {
				t.Fatalf("B lists %d attachments (%v), want none", len(l.Items), err)
			}
			if n := storageBytes(t, d, b.tenant); n != 0 {
				t.Fatalf("B's storage bytes = %d, want 0", n)
			}
			own, err := s.Create(ctx, b.tenant, actor, b.task, work.AttachmentInput{Filename: "mine.txt", ContentType: "text/plain", Size: 1})
			if err != nil {
				t.Fatal(err)
			}
			if p := objectPath(t, own.UploadURL); !strings.HasPrefix(p, "tenants/"+b.tenant.String()+"/") {
				t.Fatalf("B's upload URL names %s, outside tenants/%s/", p, b.tenant)
			}
			if content, err := fake.Object(work.AttachmentObject(a.tenant, a.task, up.ID)); err != nil || string(content) != "secret" {
				t.Fatalf("A's object after B's attempts: %q, %v", content, err)
			}
			if dl, err := s.Get(ctx, a.tenant, a.task, up.ID); err != nil || fetch(t, dl.DownloadURL) != "secret" {
				t.Fatalf("A's download after B's attempts: %v", err)
			}
		})
	}
}

// TestStorageUsageIsExactUnderConcurrency completes uploads at once: the counter ends at their sum.
func TestStorageUsageIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	s := work.NewAttachments(d.DB, bucket)
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
	if n := storageBytes(t, d, lt.tenant); n != want {
		t.Fatalf("storage bytes = %d; want %d", n, want)
	}
}

// TestStorageUsageCarriesForward: the first change of a day starts from the newest earlier day's value, so
// a day without changes needs no row, and another tenant's rows are never read.
func TestStorageUsageCarriesForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	s := work.NewAttachments(d.DB, bucket)
	lt := newLiveTask(t, d, uuid.New(), "free")
	other := newLiveTask(t, d, uuid.New(), "free")
	for _, r := range []struct {
		tenant uuid.UUID
		day    string
		value  int64
	}{
		{lt.tenant, "2026-11-01", 100},
		{lt.tenant, "2026-11-05", 250},
		{other.tenant, "2026-11-06", 999},
	} {
		if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.usage_counters (tenant_id, metric, day, value) VALUES ($1, $2, $3, $4)`,
			r.tenant, work.MetricStorageBytes, r.day, r.value); err != nil {
			t.Fatal(err)
		}
	}
	up, err := s.Create(ctx, lt.tenant, uuid.New(), lt.task, work.AttachmentInput{Filename: "f", ContentType: "text/plain", Size: 7})
	if err != nil {
		t.Fatal(err)
	}
	fake.Put(work.AttachmentObject(lt.tenant, lt.task, up.ID), "text/plain", make([]byte, 7))
	if _, err := s.Complete(ctx, lt.tenant, uuid.New(), lt.task, up.ID); err != nil {
		t.Fatal(err)
	}
	var today int64
	if err := d.Owner.QueryRow(ctx, `SELECT value FROM tenant.usage_counters WHERE tenant_id = $1 AND metric = $2
		AND day = (now() AT TIME ZONE 'UTC')::date`, lt.tenant, work.MetricStorageBytes).Scan(&today); err != nil || today != 257 {
		t.Fatalf("today's storage bytes = %d, %v; want 250 carried forward + 7", today, err)
	}
	if n := storageBytes(t, d, other.tenant); n != 999 {
		t.Fatalf("the other tenant's storage bytes = %d, want its 999 untouched", n)
	}
}

// storageBytes reads tenant's current storage gauge (its newest row) as the owner; 0 without a row.
func storageBytes(t testing.TB, d *dbtest.Database, tenant uuid.UUID) int64 {
	t.Helper()
	var n int64
	err := d.Owner.QueryRow(context.Background(), `SELECT COALESCE((SELECT value FROM tenant.usage_counters
		WHERE tenant_id = $1 AND metric = $2 ORDER BY day DESC LIMIT 1), 0)`, tenant, work.MetricStorageBytes).Scan(&n)
	if err != nil {
		t.Fatalf("read storage bytes: %v", err)
	}
	return n
}
