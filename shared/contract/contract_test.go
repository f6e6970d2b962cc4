package contract_test

import (
	"os"
	"testing"

	"github.com/coditect/hyperscale/shared/contract"
)

// small reads the small gateway document the tests share.
func small(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestConvert(t *testing.T) {
	d, err := contract.Convert(small(t))
	if err != nil {
		t.Fatal(err)
	}
	put := d.Paths.Find("/v1/things/{id}").Put
	if got := put.Extensions["x-google-backend"].(map[string]any)["address"]; got != "https://things.backend.invalid" {
		t.Errorf("backend address rendered as %v", got)
	}
	if put.Description != "a literal ${not_a_variable}" {
		t.Errorf("escaped literal rendered as %q", put.Description)
	}
	for code, want := range map[string]string{"200": contract.JSON, "404": contract.Problem, "422": contract.Problem} {
		content := put.Responses.Value(code).Value.Content
		if len(content) != 1 || content.Get(want) == nil {
			t.Errorf("response %s has media types %v, want only %s", code, content, want)
		}
	}
	if s := d.Components.SecuritySchemes["jwt"].Value; s.Type != "http" || s.Scheme != "bearer" || s.BearerFormat != "JWT" {
		t.Errorf("API Gateway's JWT scheme became %+v, want an HTTP bearer JWT", s)
	}

	pub, err := contract.Published(d)
	if err != nil {
		t.Fatal(err)
	}
	item := pub.Paths.Find("/v1/things/{id}")
	if item.Options != nil || item.Put == nil || item.Put.Extensions["x-google-backend"] != nil {
		t.Errorf("published rendition keeps preflights or gateway extensions: %+v", item)
	}
	if d.Paths.Find("/v1/things/{id}").Options == nil || d.Paths.Find("/v1/things/{id}").Put.Extensions["x-google-backend"] == nil {
		t.Error("Published changed the document it was given")
	}
}
