package tasks

import (
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// TestTaskWritesTheDocumentDeclares makes the task writes the other tests do not: null for every optional
// field of a PUT (the defaults), null emptying description and labels in a PATCH, If-Match "*", and the body
// refusals of the edge (empty, over 1 MiB). Each answer is what the handler must give, and servicetest.Do
// holds each exchange to the gateway document, so a status, header or nullable field it omits fails here.
func TestTaskWritesTheDocumentDeclares(t *testing.T) {
	t.Parallel()
	x := newTaskFx(t)

	put := servicetest.Expect(t, x.do(t, x.member, "PUT", `{"title":"Replaced","description":null,"status":null,"priority":null,`+
		`"assignee_id":null,"due_date":null,"labels":null,"position":null}`), 200)
	if put.Str("status") != "todo" || put.Str("priority") != "medium" || put.Str("description") != "" || put.Body["assignee_id"] != nil ||
		len(put.Body["labels"].([]any)) != 0 || put.Header.Get("ETag") == "" {
		t.Fatalf("PUT with nulls = %s (ETag %q), want the defaults", put.Raw, put.Header.Get("ETag"))
	}
	servicetest.Expect(t, x.do(t, x.member, "PATCH", map[string]any{"description": "Some words", "labels": []string{"a"}}), 200)
	patched := servicetest.Expect(t, x.do(t, x.member, "PATCH", `{"description":null,"labels":null}`,
		"Content-Type", "application/merge-patch+json", "If-Match", "*"), 200)
	if patched.Str("description") != "" || len(patched.Body["labels"].([]any)) != 0 {
		t.Fatalf("PATCH of nulls = %s, want description and labels emptied", patched.Raw)
	}

	for _, tc := range []struct {
		name, method, body string
		status             int
		code               string
	}{
		{"empty body", "PUT", " ", 400, "empty_body"},
		{"body over 1 MiB", "PATCH", `{"description":"` + strings.Repeat("d", 1<<20) + `"}`, 413, "body_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			servicetest.ExpectProblem(t, x.do(t, x.member, tc.method, tc.body), tc.status, tc.code)
		})
	}
}

// TestCommentCreateHonoursIdempotencyKey: a retry with the same key replays the first answer (marked
// Idempotent-Replayed, with its Location) and creates nothing; the same key with another body, a key that is
// not printable ASCII, and a body that is not JSON are refused with their own codes.
func TestCommentCreateHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	p := w.Member(t, "member")
	tok := w.Token(t, p)
	task := w.task(t, p.TenantID)
	path := "/v1/tasks/" + task + "/comments"
	c := call{Method: "POST", Path: path, Header: map[string]string{"Idempotency-Key": "comment-1"}, Body: map[string]any{"body": "once"}}

	first := w.do(t, tok, c, 201)
	again := w.do(t, tok, c, 201)
	if again.Str("id") != first.Str("id") || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Location") != "/v1/comments/"+first.Str("id") {
		t.Fatalf("retry = %s (headers %v), want the first answer %s replayed", again.Raw, again.Header, first.Raw)
	}
	if page := w.do(t, tok, call{Method: "GET", Path: path}, 200); len(page.Body["items"].([]any)) != 1 {
		t.Fatalf("comments after a retry = %s, want one", page.Raw)
	}

	w.problem(t, tok, call{Method: "POST", Path: path, Header: map[string]string{"Idempotency-Key": "comment-1"},
		Body: map[string]any{"body": "twice"}}, 422, "idempotency_key_reused")
	w.problem(t, tok, call{Method: "POST", Path: path, Header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)},
		Body: map[string]any{"body": "x"}}, 400, "invalid_idempotency_key")
	w.problem(t, tok, call{Method: "POST", Path: path, Header: map[string]string{"Content-Type": "text/plain"},
		Body: map[string]any{"body": "x"}}, 415, "unsupported_media_type")
}
