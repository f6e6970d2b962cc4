package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "openapi.json")
	if err := run([]string{"-server", "http://127.0.0.1:8080", "-o", out}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Servers []struct{ URL string }    `json:"servers"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" || len(doc.Servers) != 1 || doc.Servers[0].URL != "http://127.0.0.1:8080" {
		t.Errorf("rendition: openapi %q, servers %+v", doc.OpenAPI, doc.Servers)
	}
	if doc.Paths["/v1/projects"]["get"] == nil || doc.Paths["/v1/projects"]["options"] != nil {
		t.Errorf("/v1/projects in the rendition: %v, want GET and no preflight", doc.Paths["/v1/projects"])
	}
	if err := run([]string{"-document", filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Error("run with a missing document succeeded")
	}
}
