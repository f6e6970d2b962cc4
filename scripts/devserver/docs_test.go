package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDocs(t *testing.T) {
	t.Parallel()
	doc := gatewayDocument(t)
	routes := gatewayRoutes(t)
	assets := t.TempDir()
	mux := http.NewServeMux()
	if err := handleDocs(mux, doc, assets); err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}

	res := get("/openapi.json")
	var spec struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(res.Body.Bytes(), &spec); err != nil || res.Code != 200 || !strings.HasPrefix(spec.OpenAPI, "3.") {
		t.Fatalf("GET /openapi.json: %d, openapi %q, err %v", res.Code, spec.OpenAPI, err)
	}
	operations := 0
	for _, r := range routes {
		if r.Method == http.MethodOptions {
			continue
		}
		operations++
		if spec.Paths[r.Path][strings.ToLower(r.Method)]["operationId"] != r.OperationID {
			t.Errorf("GET /openapi.json lacks %s %s (%s)", r.Method, r.Path, r.OperationID)
		}
	}
	served := 0
	for _, item := range spec.Paths {
		served += len(item)
	}
	if served != operations {
		t.Errorf("GET /openapi.json has %d operations, want the document's %d without its preflights", served, operations)
	}
	if strings.Contains(res.Body.String(), "x-google-") {
		t.Error("GET /openapi.json still carries the gateway's x-google extensions")
	}

	if res := get("/docs"); res.Code != http.StatusServiceUnavailable || !strings.Contains(res.Body.String(), "make client") {
		t.Errorf("GET /docs without Swagger UI installed: %d %s, want 503 saying how to install it", res.Code, res.Body)
	}
	for _, f := range []string{"swagger-ui.css", "swagger-ui-bundle.js"} {
		if err := os.WriteFile(filepath.Join(assets, f), []byte("/* "+f+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res = get("/docs")
	if res.Code != 200 || !strings.Contains(res.Body.String(), `src="/docs/swagger-ui-bundle.js"`) ||
		!strings.Contains(res.Header().Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("GET /docs: %d %q %s", res.Code, res.Header().Get("Content-Security-Policy"), res.Body)
	}
	if res := get("/docs/swagger-ui-bundle.js"); res.Code != 200 || res.Body.String() != "/* swagger-ui-bundle.js */" {
		t.Errorf("GET /docs/swagger-ui-bundle.js: %d %s", res.Code, res.Body)
	}
	if res := get("/docs/start.js"); res.Code != 200 || !strings.Contains(res.Body.String(), `url: "/openapi.json"`) {
		t.Errorf("GET /docs/start.js: %d %s", res.Code, res.Body)
	}
	if res := get("/docs/package.json"); res.Code == 200 {
		t.Error("GET /docs/package.json is served; only the page's own assets should be")
	}
}
