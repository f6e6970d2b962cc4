package tasks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/storage"
	"github.com/coditect/hyperscale/shared/storage/storagetest"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
	"github.com/sethvargo/go-envconfig"
)

// sendSigned makes the request an upload or download answer describes, with a plain HTTP client as a
// browser would, and returns the body.
func sendSigned(t *testing.T, method, rawURL string, headers map[string]any, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v.(string))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, rawURL, res.StatusCode, b)
	}
	return string(b)
}

func (w *workFixture) startUpload(t *testing.T, tok, task string, filename string, size int) servicetest.Response {
	t.Helper()
	return w.do(t, tok, call{Method: "POST", Path: "/v1/tasks/" + task + "/attachments",
		Body: map[string]any{"filename": filename, "content_type": "text/plain", "size": size}}, 201)
}

func uploadTo(t *testing.T, up servicetest.Response, content string) {
	t.Helper()
	headers, _ := up.Body["upload_headers"].(map[string]any)
	sendSigned(t, up.Str("upload_method"), up.Str("upload_url"), headers, content)
}

func TestAttachmentsFlow(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	p := w.Member(t, "member")
	tok := w.Token(t, p)
	viewer := w.Token(t, w.Join(t, p.TenantID, "viewer"))
	task := w.task(t, p.TenantID)
	base := "/v1/tasks/" + task + "/attachments"

	up := w.do(t, tok, call{Method: "POST", Path: base, Body: map[string]any{"filename": "plan.txt", "content_type": "text/plain", "size": 9}}, 201)
	id := up.Str("id")
	object := "tenants/" + p.TenantID.String() + "/tasks/" + task + "/" + id
	u, err := url.Parse(up.Str("upload_url"))
	if err != nil {
		t.Fatal(err)
	}
	headers, _ := up.Body["upload_headers"].(map[string]any)
	if up.Str("status") != "pending" || up.Str("filename") != "plan.txt" || up.Str("task_id") != task || up.Str("upload_method") != "PUT" ||
		u.Path != "/"+storagetest.Bucket+"/"+object || u.Query().Get("X-Goog-Algorithm") != "GOOG4-RSA-SHA256" ||
		headers["Content-Type"] != "text/plain" || up.Str("expires_at") == "" || up.Body["completed_at"] != nil ||
		up.Header.Get("Location") != base+"/"+id || up.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create = %s (headers %v)", up.Raw, up.Header)
	}

	w.problem(t, tok, call{Method: "POST", Path: base + "/" + id + "/complete"}, 409, "upload_missing")
	w.problem(t, tok, call{Method: "GET", Path: base + "/" + id}, 409, "upload_incomplete")
	if l := w.do(t, viewer, call{Method: "GET", Path: base}, 200); len(l.Items()) != 1 || l.Items()[0]["status"] != "pending" {
		t.Fatalf("list while pending = %s", l.Raw)
	}

	uploadTo(t, up, "the plan!")
	c := w.do(t, tok, call{Method: "POST", Path: base + "/" + id + "/complete"}, 200)
	if c.Str("status") != "complete" || c.Body["size"] != float64(9) || c.Str("content_type") != "text/plain" || c.Str("completed_at") == "" {
		t.Fatalf("complete = %s", c.Raw)
	}
	w.do(t, tok, call{Method: "POST", Path: base + "/" + id + "/complete"}, 200)
	if n, _ := work.NewUsage(w.Env.DB).StorageBytes(t.Context(), p.TenantID); n != 9 {
		t.Fatalf("storage bytes = %d, want 9", n)
	}

	g := w.do(t, viewer, call{Method: "GET", Path: base + "/" + id}, 200)
	du, _ := url.Parse(g.Str("download_url"))
	const disposition = `attachment; filename="plan.txt"; filename*=UTF-8''plan.txt`
	if du == nil || du.Path != "/"+storagetest.Bucket+"/"+object || du.Query().Get("response-content-disposition") != disposition ||
		du.Query().Get("response-content-type") != "text/plain" || g.Str("expires_at") == "" || g.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("get = %s", g.Raw)
	}
	res, err := http.Get(g.Str("download_url"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if b, _ := io.ReadAll(res.Body); string(b) != "the plan!" || res.Header.Get("Content-Disposition") != disposition || res.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("downloaded %q with %v", b, res.Header)
	}
	if l := w.do(t, viewer, call{Method: "GET", Path: base}, 200); len(l.Items()) != 1 || l.Items()[0]["status"] != "complete" {
		t.Fatalf("list = %s", l.Raw)
	}

	w.do(t, tok, call{Method: "DELETE", Path: base + "/" + id}, 204)
	w.problem(t, tok, call{Method: "GET", Path: base + "/" + id}, 404, "not_found")
	w.problem(t, tok, call{Method: "DELETE", Path: base + "/" + id}, 404, "not_found")
	if _, err := w.fake.Object(object); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("object after delete: %v", err)
	}
	if n, _ := work.NewUsage(w.Env.DB).StorageBytes(t.Context(), p.TenantID); n != 0 {
		t.Fatalf("storage bytes after delete = %d, want 0", n)
	}
	if l := w.do(t, tok, call{Method: "GET", Path: base}, 200); len(l.Items()) != 0 {
		t.Fatalf("list after delete = %s", l.Raw)
	}
}

func TestAttachmentsRefuseBadInput(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	p := w.Member(t, "member")
	tok := w.Token(t, p)
	task := w.task(t, p.TenantID)
	base := "/v1/tasks/" + task + "/attachments"
	body := func(edit func(map[string]any)) map[string]any {
		b := map[string]any{"filename": "a.pdf", "content_type": "application/pdf", "size": 10}
		edit(b)
		return b
	}
	tests := []struct {
		name   string
		c      call
		status int
		code   string
		field  string
	}{
		{"no filename", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { delete(b, "filename") })}, 422, "validation_failed", "filename"},
		{"path in filename", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["filename"] = "../../x" })}, 422, "validation_failed", "filename"},
		{"control char in filename", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["filename"] = "a\u0007b" })}, 422, "validation_failed", "filename"},
		{"long filename", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["filename"] = strings.Repeat("f", 256) })}, 422, "validation_failed", "filename"},
		{"bad content type", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["content_type"] = "definitely not" })}, 422, "validation_failed", "content_type"},
		{"html", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["content_type"] = "text/html; charset=utf-8" })}, 422, "validation_failed", "content_type"},
		{"svg", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["content_type"] = "image/svg+xml" })}, 422, "validation_failed", "content_type"},
		{"javascript", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["content_type"] = "text/javascript" })}, 422, "validation_failed", "content_type"},
		{"audio on the free plan", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["content_type"] = "audio/mpeg" })}, 422, "validation_failed", "content_type"},
		{"zero size", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["size"] = 0 })}, 422, "validation_failed", "size"},
		{"fractional size", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["size"] = 1.5 })}, 422, "validation_failed", "size"},
		{"size as text", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["size"] = "10" })}, 422, "validation_failed", "size"},
		{"unknown field", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["object"] = "tenants/other/x" })}, 422, "validation_failed", "object"},
		{"too large for the free plan", call{Method: "POST", Path: base, Body: body(func(b map[string]any) { b["size"] = 10<<20 + 1 })}, 413, "attachment_too_large", ""},
		{"malformed", call{Method: "POST", Path: base, Body: `{"filename":`}, 400, "malformed_json", ""},
		{"bad limit", call{Method: "GET", Path: base + "?limit=0"}, 422, "validation_failed", "limit"},
		{"bad cursor", call{Method: "GET", Path: base + "?cursor=zzz"}, 422, "invalid_cursor", "cursor"},
		{"task id not a uuid", call{Method: "GET", Path: "/v1/tasks/x/attachments"}, 404, "not_found", ""},
		{"attachment id not a uuid", call{Method: "GET", Path: base + "/x"}, 404, "not_found", ""},
		{"complete unknown attachment", call{Method: "POST", Path: base + "/" + uuid.NewString() + "/complete"}, 404, "not_found", ""},
		{"delete unknown attachment", call{Method: "DELETE", Path: base + "/" + uuid.NewString()}, 404, "not_found", ""},
		{"unknown task", call{Method: "POST", Path: "/v1/tasks/" + uuid.NewString() + "/attachments", Body: body(func(map[string]any) {})}, 404, "not_found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := w.problem(t, tok, tc.c, tc.status, tc.code)
			if tc.field != "" && failingField(res) != tc.field {
				t.Fatalf("failing fields %v, want %s", res.Body["errors"], tc.field)
			}
		})
	}
	if l := w.do(t, tok, call{Method: "GET", Path: base}, 200); len(l.Items()) != 0 {
		t.Fatalf("bad requests stored attachments: %s", l.Raw)
	}

	// An upload larger than the plan allows is refused at completion and its object deleted.
	up := w.startUpload(t, tok, task, "small.txt", 10)
	object := work.AttachmentObject(p.TenantID, uuid.MustParse(task), uuid.MustParse(up.Str("id")))
	w.fake.Put(object, "text/plain", make([]byte, 10<<20+1))
	w.problem(t, tok, call{Method: "POST", Path: base + "/" + up.Str("id") + "/complete"}, 413, "attachment_too_large")
	if _, err := w.fake.Object(object); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("oversized object kept: %v", err)
	}
}

// TestAttachmentsPermissions: viewers only read; a member deletes only their own uploads; admins any.
func TestAttachmentsPermissions(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	uploader := w.Member(t, "member")
	tenant := uploader.TenantID
	ut := w.Token(t, uploader)
	other := w.Token(t, w.Join(t, tenant, "member"))
	viewer := w.Token(t, w.Join(t, tenant, "viewer"))
	admin := w.Token(t, w.Join(t, tenant, "admin"))
	task := w.task(t, tenant)
	base := "/v1/tasks/" + task + "/attachments"
	up := w.startUpload(t, ut, task, "f.txt", 2)
	id := up.Str("id")
	uploadTo(t, up, "hi")

	w.problem(t, viewer, call{Method: "POST", Path: base, Body: map[string]any{"filename": "f", "content_type": "text/plain", "size": 1}}, 403, "forbidden")
	w.problem(t, viewer, call{Method: "POST", Path: base + "/" + id + "/complete"}, 403, "forbidden")
	w.problem(t, viewer, call{Method: "DELETE", Path: base + "/" + id}, 403, "forbidden")
	w.do(t, other, call{Method: "POST", Path: base + "/" + id + "/complete"}, 200)
	w.do(t, viewer, call{Method: "GET", Path: base + "/" + id}, 200)
	w.problem(t, other, call{Method: "DELETE", Path: base + "/" + id}, 403, "not_author")
	servicetest.ExpectProblem(t, servicetest.Do(t, w.h, call{Method: "GET", Path: base}), 401, "unauthenticated")
	w.do(t, admin, call{Method: "DELETE", Path: base + "/" + id}, 204)
	w.do(t, ut, call{Method: "DELETE", Path: base + "/" + w.startUpload(t, ut, task, "g.txt", 1).Str("id")}, 204)
}

// TestAttachmentsAnotherTenantSeesNothing: tenant B's token on tenant A's task and attachment ids is 404 on
// every route; B's list is empty; B is never handed a URL, and every URL it does get names its own prefix.
func TestAttachmentsAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	pa, pb := w.Member(t, "owner"), w.Member(t, "owner")
	a, b := w.Token(t, pa), w.Token(t, pb)
	taskA, taskB := w.task(t, pa.TenantID), w.task(t, pb.TenantID)
	up := w.startUpload(t, a, taskA, "a.txt", 6)
	id := up.Str("id")
	uploadTo(t, up, "A data")
	w.do(t, a, call{Method: "POST", Path: "/v1/tasks/" + taskA + "/attachments/" + id + "/complete"}, 200)

	for _, task := range []string{taskA, taskB} {
		base := "/v1/tasks/" + task + "/attachments"
		for _, c := range []call{
			{Method: "POST", Path: base + "/" + id + "/complete"},
			{Method: "GET", Path: base + "/" + id},
			{Method: "DELETE", Path: base + "/" + id},
		} {
			if res := w.problem(t, b, c, 404, "not_found"); strings.Contains(res.Raw, "http") {
				t.Fatalf("%s %s answered with a URL: %s", c.Method, c.Path, res.Raw)
			}
		}
	}
	w.problem(t, b, call{Method: "GET", Path: "/v1/tasks/" + taskA + "/attachments"}, 404, "not_found")
	if res := w.problem(t, b, call{Method: "POST", Path: "/v1/tasks/" + taskA + "/attachments",
		Body: map[string]any{"filename": "x.txt", "content_type": "text/plain", "size": 1}}, 404, "not_found"); strings.Contains(res.Raw, "upload_url") {
		t.Fatalf("B got an upload URL on A's task: %s", res.Raw)
	}
	if l := w.do(t, b, call{Method: "GET", Path: "/v1/tasks/" + taskB + "/attachments"}, 200); len(l.Items()) != 0 {
		t.Fatalf("B lists %s", l.Raw)
	}
	own := w.startUpload(t, b, taskB, "b.txt", 1)
	if u, _ := url.Parse(own.Str("upload_url")); !strings.HasPrefix(u.Path, "/"+storagetest.Bucket+"/tenants/"+pb.TenantID.String()+"/") {
		t.Fatalf("B's upload URL %s is outside B's prefix", own.Str("upload_url"))
	}
	g := w.do(t, a, call{Method: "GET", Path: "/v1/tasks/" + taskA + "/attachments/" + id}, 200)
	if body := sendSigned(t, "GET", g.Str("download_url"), nil, ""); body != "A data" {
		t.Fatalf("A's file after B's attempts: %q", body)
	}
}

func TestAttachmentCreateHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	p := w.Member(t, "member")
	tok := w.Token(t, p)
	task := w.task(t, p.TenantID)
	c := call{Method: "POST", Path: "/v1/tasks/" + task + "/attachments", Header: map[string]string{"Idempotency-Key": "upload-1"},
		Body: map[string]any{"filename": "f.txt", "content_type": "text/plain", "size": 3}}
	first := w.do(t, tok, c, 201)
	again := w.do(t, tok, c, 201)
	if again.Str("id") != first.Str("id") || again.Str("upload_url") != first.Str("upload_url") {
		t.Fatalf("retry = %s, want the first answer %s", again.Raw, first.Raw)
	}
}

// TestAttachmentsWithoutStorage: a deployment without storage configuration still authenticates the
// attachment routes and answers 503 on them, while comments keep working.
func TestAttachmentsWithoutStorage(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	if _, err := openAttachments(context.Background(), f.Env, config.WithLookuper(envconfig.MapLookuper(map[string]string{}))); err == nil ||
		!strings.Contains(err.Error(), "ATTACHMENTS_BUCKET") {
		t.Fatalf("openAttachments without a bucket: %v, want an error naming ATTACHMENTS_BUCKET", err)
	}
	if _, err := openAttachments(context.Background(), f.Env, config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"ATTACHMENTS_BUCKET": "b-attachments", "ATTACHMENT_TYPES_PRO": "image/png,text/html"}))); err == nil ||
		!strings.Contains(err.Error(), "ATTACHMENT_TYPES_PRO") {
		t.Fatalf("openAttachments with text/html listed: %v, want an error naming ATTACHMENT_TYPES_PRO", err)
	}
	mux := f.Env.Mux()
	registerComments(f.Env, mux)
	mountAttachments(f.Env, mux, nil)
	h := f.Env.Handler(mux)
	p := f.Member(t, "owner")
	tok := f.Token(t, p)
	path := "/v1/tasks/" + uuid.NewString() + "/attachments"
	servicetest.ExpectProblem(t, servicetest.Do(t, h, call{Method: "GET", Path: path}), 401, "unauthenticated")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, call{Method: "GET", Path: path, Bearer: tok}), 503, "storage_unavailable")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, call{Method: "GET", Path: "/v1/tasks/" + uuid.NewString() + "/comments", Bearer: tok}), 404, "not_found")
}
