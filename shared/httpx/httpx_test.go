package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/valid"
)

func TestWriteErrorMapsToProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"problem passes through", Conflict("slug_taken", "x"), 409, "slug_taken"},
		{"wrapped problem", fmt.Errorf("outer: %w", NotFound()), 404, "not_found"},
		{"not found", fmt.Errorf("load project: %w", db.ErrNotFound), 404, "not_found"},
		{"conflict", fmt.Errorf("insert: %w", db.ErrConflict), 409, "conflict"},
		{"check", db.ErrCheck, 422, "constraint_violation"},
		{"validation", valid.Errors{{Field: "name", Message: "is required"}}, 422, "validation_failed"},
		{"anything else", errors.New("pq: password for user app is hunter2"), 500, "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest("GET", "/", nil), tc.err)
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.status || p.Code != tc.code || p.Status != tc.status {
				t.Fatalf("got %d %+v, want %d %s", rec.Code, p, tc.status, tc.code)
			}
			if strings.Contains(rec.Body.String(), "hunter2") {
				t.Fatal("an internal error's text reached the client")
			}
		})
	}
}

func TestEdgeRecoversPanicsAndTagsRequests(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := Edge{Log: slog.New(slog.NewJSONHandler(&logs, nil))}.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("panic answered %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id %q, want the caller's", rec.Header().Get("X-Request-Id"))
	}
	if !strings.Contains(logs.String(), `"panic":"boom"`) {
		t.Fatalf("panic not logged: %s", logs.String())
	}

	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("X-Request-Id", "bad id with spaces\n")
	h.ServeHTTP(rec, req)
	if id := rec.Header().Get("X-Request-Id"); id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("unsafe request id echoed: %q", id)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	type body struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name, body, ctype string
		status            int
		code              string
	}{
		{"ok", `{"name":"a"}`, "application/json", 0, ""},
		{"ok with charset", `{"name":"a"}`, "application/json; charset=utf-8", 0, ""},
		{"merge patch type", `{"name":"a"}`, "application/merge-patch+json", 0, ""},
		{"malformed", `{"name":`, "application/json", 400, "malformed_json"},
		{"unknown field", `{"nom":"a"}`, "application/json", 422, "validation_failed"},
		{"wrong type", `{"name":1}`, "application/json", 422, "validation_failed"},
		{"two values", `{} {}`, "application/json", 400, "malformed_json"},
		{"empty", ``, "application/json", 400, "empty_body"},
		{"xml", `<a/>`, "application/xml", 415, "unsupported_media_type"},
		{"too big", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, "application/json", 413, "body_too_large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			var b body
			err := Decode(httptest.NewRecorder(), req, &b)
			var p *Problem
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("unexpected %v", err)
			case tc.status == 0:
				if b.Name != "a" {
					t.Fatalf("decoded %+v", b)
				}
			case !errors.As(err, &p) || p.Status != tc.status || p.Code != tc.code:
				t.Fatalf("got %v, want %d %s", err, tc.status, tc.code)
			}
		})
	}
}

func TestHandleUnrouted(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	HandleUnrouted(mux)
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("DELETE /things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/things/1", 200, ""},
		{"PUT", "/things/1", 405, "GET, DELETE"},
		{"GET", "/nothing", 404, ""},
		{"POST", "/", 404, ""},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d Allow %q, want %d %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.status, tc.allow)
		}
		if tc.status >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, rec.Header().Get("Content-Type"))
		}
	}
}
