package storage_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
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
		q.Get("X-Goog-Algorithm") != "GOOG4-RSA-SHA256" || !strings.Contains(q.Get("X-Goog-SignedHeaders"), "x-goog-content-length-range") {
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
	down, err := b.SignDownload(name, "résumé (final).txt")
	if err != nil {
		t.Fatal(err)
	}
	du, _ := url.Parse(down.URL)
	if cd := du.Query().Get("response-content-disposition"); cd != `attachment; filename="r_sum_ (final).txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29.txt` {
		t.Fatalf("download disposition %q", cd)
	}
	if body := send(t, down, ""); body != "hello, world" {
		t.Fatalf("downloaded %q", body)
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

func send(t *testing.T, r storage.SignedRequest, body string) string {
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
	return string(b)
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
		"report.pdf":  `attachment; filename=report.pdf`,
		"my file.pdf": `attachment; filename="my file.pdf"`,
		`a"b.txt`:     `attachment; filename="a\"b.txt"`,
		"日本.txt":      `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`,
	} {
		if got := storage.ContentDisposition(in); got != want {
			t.Errorf("ContentDisposition(%q) = %s, want %s", in, got, want)
		}
	}
}
