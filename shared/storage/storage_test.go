package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/storage"
	"github.com/coditect/hyperscale/shared/storage/storagetest"
)

// TestSignedRoundTrip uploads through a signed PUT with a plain HTTP client, as a browser would, then reads the
// object's attributes and content through the real client and a signed GET, and deletes it.
func TestSignedRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := storagetest.New(t)
	b, err := storage.Open(ctx, fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const name = "tenants/t1/tasks/k1/a1"

	up, err := b.SignUpload(name, "text/plain; charset=utf-8", 1024)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "http" || u.Host != fake.Host || u.Path != "/"+storagetest.Bucket+"/"+name ||
		q.Get("X-Goog-Algorithm") != "GOOG4-RSA-SHA256" || !strings.Contains(q.Get("X-Goog-SignedHeaders"), "x-goog-content-length-range") ||
		!slices.Contains(strings.Split(q.Get("X-Goog-SignedHeaders"), ";"), "content-type") {
		t.Fatalf("upload URL %s", up.URL)
	}
	if up.Method != http.MethodPut || up.Headers["Content-Type"] != "text/plain; charset=utf-8" || up.Headers["X-Goog-Content-Length-Range"] != "0,1024" {
		t.Fatalf("upload request %+v", up)
	}
	if d := time.Until(up.Expires); d <= 14*time.Minute || d > 15*time.Minute {
		t.Fatalf("upload expires in %s, want the 15 minute default", d)
	}
	send(t, up, "hello, world")

	a, err := b.Attrs(ctx, name)
	if err != nil || a.Size != 12 || a.ContentType != "text/plain; charset=utf-8" {
		t.Fatalf("attrs = %+v, %v", a, err)
	}
	down, err := b.SignDownload(name, "résumé (final).txt", a.ContentType)
	if err != nil {
		t.Fatal(err)
	}
	du, _ := url.Parse(down.URL)
	const disposition = `attachment; filename="r_sum_ (final).txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29.txt`
	if cd := du.Query().Get("response-content-disposition"); cd != disposition {
		t.Fatalf("download disposition %q", cd)
	}
	if ct := du.Query().Get("response-content-type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("download type %q, want the stored, safe one", ct)
	}
	body, h := get(t, down)
	if body != "hello, world" || h.Get("Content-Disposition") != disposition || h.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("downloaded %q with %v", body, h)
	}

	if err := b.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, name); err != nil {
		t.Fatalf("deleting a missing object: %v, want nil", err)
	}
	if _, err := b.Attrs(ctx, name); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("attrs after delete: %v, want ErrNotExist", err)
	}
}

// An object stored as active content (uploaded before such types were refused, or by anyone holding the
// bucket's credentials) still downloads as an opaque attachment.
func TestDownloadOfActiveContentIsOpaque(t *testing.T) {
	t.Parallel()
	fake := storagetest.New(t)
	b, err := storage.Open(context.Background(), fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i, ct := range []string{"text/html; charset=utf-8", "image/svg+xml", "application/xhtml+xml", "text/javascript", "nonsense"} {
		name := fmt.Sprintf("tenants/t1/tasks/k1/page%d", i)
		fake.Put(name, ct, []byte("<script>alert(document.domain)</script>"))
		down, err := b.SignDownload(name, "page.html", ct)
		if err != nil {
			t.Fatal(err)
		}
		_, h := get(t, down)
		if h.Get("Content-Type") != storage.OpaqueContentType || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
			t.Errorf("%s downloads with Content-Type %q and Content-Disposition %q", ct, h.Get("Content-Type"), h.Get("Content-Disposition"))
		}
	}
}

func TestSafeContentType(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"image/png":                    "image/png",
		"IMAGE/JPEG":                   "image/jpeg",
		"application/pdf":              "application/pdf",
		"text/plain; charset=UTF-8":    "text/plain; charset=UTF-8",
		"text/csv; charset=utf-8; x=1": "text/csv; charset=utf-8",
		"application/zip; name=a.zip":  "application/zip",
		"text/html":                    storage.OpaqueContentType,
		"text/html; charset=utf-8":     storage.OpaqueContentType,
		"image/svg+xml":                storage.OpaqueContentType,
		"application/xhtml+xml":        storage.OpaqueContentType,
		"application/javascript":       storage.OpaqueContentType,
		"application/x-msdownload":     storage.OpaqueContentType,
		"application/octet-stream":     storage.OpaqueContentType,
		"":                             storage.OpaqueContentType,
		"not a type":                   storage.OpaqueContentType,
		"text/plain; charset=\"a\"b\"": storage.OpaqueContentType,
	} {
		if got := storage.SafeContentType(in); got != want {
			t.Errorf("SafeContentType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestActiveContent(t *testing.T) {
	t.Parallel()
	for ct, active := range map[string]bool{
		"text/html": true, "Text/HTML; charset=utf-8": true, "image/svg+xml": true, "application/xhtml+xml": true,
		"text/xml": true, "application/xml": true, "application/rss+xml": true, "application/vnd.foo+xml": true,
		"text/javascript": true, "application/javascript": true, "application/x-javascript": true, "application/ecmascript": true,
		"text/vbscript": true, "application/x-shockwave-flash": true, "message/rfc822": true, "multipart/related": true,
		"application/wasm": true, "garbage": true, "": true,
		"image/png": false, "application/pdf": false, "text/plain": false, "text/csv": false, "application/zip": false,
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document": false, "application/octet-stream": false,
		"video/mp4": false, "application/json": false,
	} {
		if got := storage.ActiveContent(ct); got != active {
			t.Errorf("ActiveContent(%q) = %t, want %t", ct, got, active)
		}
	}
}

func send(t *testing.T, r storage.SignedRequest, body string) string {
	t.Helper()
	b, _ := sendWith(t, r, body)
	return b
}

func get(t *testing.T, r storage.SignedRequest) (string, http.Header) {
	t.Helper()
	return sendWith(t, r, "")
}

func sendWith(t *testing.T, r storage.SignedRequest, body string) (string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(r.Method, r.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", r.Method, r.URL, res.StatusCode, b)
	}
	return string(b), res.Header
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := storage.Config{Bucket: "hyperscale-attachments", UploadTTL: time.Minute, DownloadTTL: time.Minute}
	tests := []struct {
		name string
		edit func(*storage.Config)
		want []string
	}{
		{"valid", func(*storage.Config) {}, nil},
		{"no bucket", func(c *storage.Config) { c.Bucket = "" }, []string{"ATTACHMENTS_BUCKET is required"}},
		{"bad bucket", func(c *storage.Config) { c.Bucket = "Not_A/Bucket" }, []string{"is not a bucket name"}},
		{"bad key", func(c *storage.Config) { c.SignerKey = "nope"; c.SignerEmail = "a@b" }, []string{"STORAGE_SIGNER_KEY"}},
		{"key without email", func(c *storage.Config) { c.SignerKey = "nope" }, []string{"STORAGE_SIGNER_KEY", "STORAGE_SIGNER_EMAIL is required"}},
		{"ttls", func(c *storage.Config) { c.UploadTTL = 0; c.DownloadTTL = 8 * 24 * time.Hour }, []string{"STORAGE_UPLOAD_URL_TTL", "STORAGE_DOWNLOAD_URL_TTL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to mention %q", err, w)
				}
			}
		})
	}
	if _, err := storage.Open(context.Background(), storage.Config{}); err == nil {
		t.Fatal("Open accepted an empty configuration")
	}
}

func TestContentDisposition(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"report.pdf":  `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
		"my file.pdf": `attachment; filename="my file.pdf"; filename*=UTF-8''my%20file.pdf`,
		`a"b\c.txt`:   `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`,
		"日本.txt":      `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`,
		"":            `attachment`,
	} {
		if got := storage.ContentDisposition(in); got != want {
			t.Errorf("ContentDisposition(%q) = %s, want %s", in, got, want)
		}
	}
}
