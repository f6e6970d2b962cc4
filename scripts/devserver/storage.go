package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/coditect/hyperscale/shared/storage/storagetest"
)

// startDevStorage starts an in-process Cloud Storage (fake-gcs-server) and points the functions at it through
// the variables their configuration reads, ATTACHMENTS_BUCKET and STORAGE_EMULATOR_HOST; it must therefore
// run before the functions are built. Signed URLs are signed with an ephemeral key the fake does not check.
// Objects are kept in DEV_STORAGE_DIR (default: hyperscale-storage in the user's cache folder), so uploads
// outlive a restart as the database rows that name them do. When STORAGE_EMULATOR_HOST is already set, the
// developer runs an emulator of their own and nothing is started. It returns the function that stops the fake.
func startDevStorage(ctx context.Context) (stop func(), err error) {
	if os.Getenv("STORAGE_EMULATOR_HOST") != "" {
		if os.Getenv("ATTACHMENTS_BUCKET") == "" {
			_ = os.Setenv("ATTACHMENTS_BUCKET", storagetest.Bucket)
		}
		return func() {}, nil
	}
	root := os.Getenv("DEV_STORAGE_DIR")
	if root == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		root = filepath.Join(cache, "hyperscale-storage")
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("dev storage: %w", err)
	}
	fake, err := storagetest.Start(root)
	if err != nil {
		return nil, fmt.Errorf("dev storage: %w", err)
	}
	_ = os.Setenv("STORAGE_EMULATOR_HOST", fake.Host)
	_ = os.Setenv("ATTACHMENTS_BUCKET", storagetest.Bucket)
	slog.InfoContext(ctx, "cloud storage fake serving", slog.String("addr", "http://"+fake.Host), slog.String("bucket", storagetest.Bucket), slog.String("dir", root))
	return fake.Stop, nil
}
