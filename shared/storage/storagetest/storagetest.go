// Package storagetest runs an in-process Cloud Storage (fake-gcs-server) on a loopback port, so tests and the
// dev server drive the real cloud.google.com/go/storage client, and browsers' plain PUTs to signed URLs, without
// Google credentials or network access. The fake accepts any signature.
package storagetest

import (
	"fmt"
	"io"
	"net/url"
	"testing"

	"github.com/coditect/hyperscale/shared/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// Bucket is the bucket a fake starts with.
const Bucket = "hyperscale-attachments"

// Fake is a running fake server holding Bucket.
type Fake struct {
	server *fakestorage.Server
	// Host is the fake's "127.0.0.1:port", the value of STORAGE_EMULATOR_HOST.
	Host string
}

// Start starts a fake on a free loopback port holding Bucket. Objects live in memory, or in the folder root
// when it is not empty, so a dev server's uploads survive its restarts. Stop it when done.
func Start(root string) (*Fake, error) {
	s, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1",
		// PublicHost without a port makes the fake serve signed-URL paths (/bucket/object) on whatever port it got.
		PublicHost:  "127.0.0.1",
		StorageRoot: root,
		// A browser's signed upload sends this header; the fake's CORS answer must allow it.
		AllowedCORSHeaders: []string{"X-Goog-Content-Length-Range"},
		Writer:             io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("start fake storage: %w", err)
	}
	s.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: Bucket})
	u, err := url.Parse(s.URL())
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("start fake storage: %w", err)
	}
	return &Fake{server: s, Host: u.Host}, nil
}

// New starts a fake for t and stops it when t ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// Stop shuts the fake down.
func (f *Fake) Stop() { f.server.Stop() }

// Config is a storage configuration that reaches the fake, signing with an ephemeral key.
func (f *Fake) Config() storage.Config {
	return storage.Config{Bucket: Bucket, EmulatorHost: f.Host, UploadTTL: storage.DefaultUploadTTL, DownloadTTL: storage.DefaultDownloadTTL}
}

// Object returns the content of the stored object name, or storage.ErrNotExist.
func (f *Fake) Object(name string) ([]byte, error) {
	o, err := f.server.GetObject(Bucket, name)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", name, storage.ErrNotExist)
	}
	return o.Content, nil
}

// Put stores content as the object name, as a client's upload would.
func (f *Fake) Put(name, contentType string, content []byte) {
	f.server.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: Bucket, Name: name, ContentType: contentType},
		Content:     content,
	})
}
