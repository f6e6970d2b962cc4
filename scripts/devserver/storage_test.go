package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/storage"
)

// TestDevStorage: the dev server's fake is what the functions' storage configuration finds in the
// environment, a browser-style signed upload reaches it, and objects outlive a restart. Not parallel: it sets
// process environment variables.
func TestDevStorage(t *testing.T) {
	ctx := context.Background()
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("ATTACHMENTS_BUCKET", "")
	t.Setenv("DEV_STORAGE_DIR", t.TempDir())

	open := func() *storage.Bucket {
		t.Helper()
		var cfg struct{ Storage storage.Config }
		if err := config.Load(ctx, &cfg); err != nil {
			t.Fatal(err)
		}
		b, err := storage.Open(ctx, cfg.Storage)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	stop, err := startDevStorage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	up, err := open().SignUpload("tenants/t/tasks/k/a", "text/plain", 100)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(up.Method, up.URL, strings.NewReader("kept"))
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("signed upload: %d", res.StatusCode)
	}
	stop()

	// A restart serves the same folder on a new port.
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	stop, err = startDevStorage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if a, err := open().Attrs(ctx, "tenants/t/tasks/k/a"); err != nil || a.Size != 4 {
		t.Fatalf("after a restart: %+v, %v", a, err)
	}
}
