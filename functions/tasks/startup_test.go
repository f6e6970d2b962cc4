package tasks

import (
	"context"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// The storage configuration is a part service.Main loads before the function serves: without a bucket it
// fails, which stops the start instead of leaving the attachment routes answering 503.
func TestStoragePartStopsTheStart(t *testing.T) {
	t.Setenv("ATTACHMENTS_BUCKET", "")
	f := servicetest.New(t)
	if err := attachmentsPart.Load(context.Background(), f.Env); err == nil || !strings.Contains(err.Error(), "ATTACHMENTS_BUCKET") {
		t.Fatalf("loading the storage part without a bucket: %v, want an error naming ATTACHMENTS_BUCKET", err)
	}
	t.Setenv("ATTACHMENTS_BUCKET", "Not A Bucket")
	if err := attachmentsPart.Load(context.Background(), f.Env); err == nil || !strings.Contains(err.Error(), "is not a bucket name") {
		t.Fatalf("loading the storage part with a bad bucket name: %v", err)
	}
}
