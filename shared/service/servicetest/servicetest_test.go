package servicetest

import (
	"fmt"
	"net/http"
	"testing"
)

// recordingTB records Fatalf instead of stopping the test, so Items' failures can be checked.
type recordingTB struct {
	testing.TB
	failed string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestItemsFailsOnAnotherShape(t *testing.T) {
	t.Parallel()
	h := func(body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) })
	}
	tests := []struct {
		name     string
		body     string
		wantFail bool
		wantLen  int
	}{
		{"an empty list", `{"items":[]}`, false, 0},
		{"two items", `{"items":[{"id":"a"},{"id":"b"}],"next_cursor":null}`, false, 2},
		{"no items field", `{"type":"about:blank","status":404}`, true, 0},
		{"items renamed", `{"results":[{"id":"a"}]}`, true, 0},
		{"items not an array", `{"items":{"id":"a"}}`, true, 0},
		{"an item not an object", `{"items":["a"]}`, true, 0},
		{"not JSON", `oops`, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recordingTB{TB: t}
			// serve, not Do: these answers are of shapes no route of the document has.
			res, _, _ := serve(rec, h(tt.body), Request{Method: "GET", Path: "/"})
			items := res.Items()
			if (rec.failed != "") != tt.wantFail {
				t.Fatalf("Items on %s: failed = %q, want failure %v", tt.body, rec.failed, tt.wantFail)
			}
			if len(items) != tt.wantLen {
				t.Errorf("Items on %s = %v, want %d items", tt.body, items, tt.wantLen)
			}
		})
	}
}
