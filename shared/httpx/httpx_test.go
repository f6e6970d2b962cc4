package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

func TestWriteErrorMapsToProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"problem passes through", NewProblem(http.StatusConflict, "slug_taken", "x"), 409, "slug_taken"},
		{"wrapped problem", fmt.Errorf("outer: %w", NotFound()), 404, "not_found"},
		{"not found", fmt.Errorf("load project: %w", db.ErrNotFound), 404, "not_found"},
		{"conflict", fmt.Errorf("insert: %w", db.ErrConflict), 409, "conflict"},
		{"check", db.ErrCheck, 422, "constraint_violation"},
		{"validation", valid.Errors{{Field: "name", Message: "is required"}}, 422, "validation_failed"},
		{"failures sharing a code", valid.Errors{{Field: "cursor", Message: "x", Code: "invalid_cursor"}}, 422, "invalid_cursor"},
		{"failures of mixed codes", valid.Errors{{Field: "cursor", Message: "x", Code: "invalid_cursor"}, {Field: "limit", Message: "y"}}, 422, "validation_failed"},
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
	type inner struct {
		Theme string `json:"theme"`
	}
	type body struct {
		Name     string            `json:"name"`
		Owner    inner             `json:"owner"`
		Optional *inner            `json:"optional"`
		Labels   map[string]string `json:"labels"`
		ID       *uuid.UUID        `json:"id"`
		Patch    nullable          `json:"patch"`
	}
	tests := []struct {
		name, body, ctype string
		status            int
		code              string
		field             string // the field a 422 names
	}{
		{"ok", `{"name":"a"}`, "application/json", 0, "", ""},
		{"ok with charset", `{"name":"a"}`, "application/json; charset=utf-8", 0, "", ""},
		{"merge patch type", `{"name":"a"}`, "application/merge-patch+json", 0, "", ""},
		{"malformed", `{"name":`, "application/json", 400, "malformed_json", ""},
		{"unknown field", `{"nom":"a"}`, "application/json", 422, "validation_failed", "nom"},
		{"wrong type", `{"name":1}`, "application/json", 422, "validation_failed", "name"},
		{"two values", `{} {}`, "application/json", 400, "malformed_json", ""},
		{"empty", ``, "application/json", 400, "empty_body", ""},
		{"xml", `<a/>`, "application/xml", 415, "unsupported_media_type", ""},
		{"too big", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, "application/json", 413, "body_too_large", ""},
		{"whitespace only", " \n ", "application/json", 400, "empty_body", ""},
		{"array body", `[]`, "application/json", 400, "malformed_json", ""},
		// Strict JSON (issue 7 item 6).
		{"names match exactly", `{"name":"a","Name":"upper"}`, "application/json", 422, "validation_failed", "Name"},
		{"duplicate member", `{"name":"a","name":"b"}`, "application/json", 422, "validation_failed", "name"},
		{"duplicate nested member", `{"name":"a","owner":{"theme":"x","theme":"y"}}`, "application/json", 422, "validation_failed", "owner.theme"},
		{"invalid UTF-8", "{\"name\":\"a\xff\"}", "application/json", 422, "validation_failed", "name"},
		{"null body", `null`, "application/json", 400, "malformed_json", ""},
		{"null object member", `{"name":"a","owner":null}`, "application/json", 422, "validation_failed", "owner"},
		{"null map member", `{"name":"a","labels":null}`, "application/json", 422, "validation_failed", "labels"},
		{"null optional object", `{"name":"a","optional":null}`, "application/json", 0, "", ""},
		{"null decoded by its type", `{"name":"a","patch":null}`, "application/json", 0, "", ""},
		{"nested unknown field", `{"name":"a","owner":{"colour":"x"}}`, "application/json", 422, "validation_failed", "owner.colour"},
		{"nested wrong type", `{"name":"a","owner":{"theme":1}}`, "application/json", 422, "validation_failed", "owner.theme"},
		{"canonical id", `{"name":"a","id":"0190a5e4-7c1e-7b3a-9d2f-4c5e6f708192"}`, "application/json", 0, "", ""},
		{"null id", `{"name":"a","id":null}`, "application/json", 0, "", ""},
		{"upper-case id", `{"name":"a","id":"0190A5E4-7C1E-7B3A-9D2F-4C5E6F708192"}`, "application/json", 422, "validation_failed", "id"},
		{"braced id", `{"name":"a","id":"{0190a5e4-7c1e-7b3a-9d2f-4c5e6f708192}"}`, "application/json", 422, "validation_failed", "id"},
		{"urn id", `{"name":"a","id":"urn:uuid:0190a5e4-7c1e-7b3a-9d2f-4c5e6f708192"}`, "application/json", 422, "validation_failed", "id"},
		{"undashed id", `{"name":"a","id":"0190a5e47c1e7b3a9d2f4c5e6f708192"}`, "application/json", 422, "validation_failed", "id"},
		{"id of wrong type", `{"name":"a","id":7}`, "application/json", 422, "validation_failed", "id"},
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
			case tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field):
				t.Fatalf("got errors %+v, want one on %q", p.Errors, tc.field)
			}
		})
	}
}

// nullable decodes null itself, as work.PatchField does for merge patches.
type nullable struct{ null bool }

func (n *nullable) UnmarshalJSON(b []byte) error {
	n.null = string(b) == "null"
	return nil
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

func TestPathIDTakesOnlyTheCanonicalForm(t *testing.T) {
	t.Parallel()
	const id = "0190a5e4-7c1e-7b3a-9d2f-4c5e6f708192"
	tests := []struct {
		segment string
		ok      bool
	}{
		{id, true},
		{strings.ToUpper(id), false},
		{"{" + id + "}", false},
		{"urn:uuid:" + id, false},
		{strings.ReplaceAll(id, "-", ""), false},
		{"not-an-id", false},
	}
	for _, tc := range tests {
		mux := http.NewServeMux()
		var got error
		mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) { _, got = PathID(r, "id") })
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/things/"+url.PathEscape(tc.segment), nil))
		var p *Problem
		switch {
		case tc.ok && got != nil:
			t.Errorf("%q: %v, want the id", tc.segment, got)
		case !tc.ok && (!errors.As(got, &p) || p.Status != http.StatusNotFound):
			t.Errorf("%q: %v, want 404", tc.segment, got)
		}
	}
}
