// Package contract is the platform's HTTP contract: the API Gateway document (opentofu/gateway/openapi.yaml,
// Swagger 2.0 because API Gateway reads no other), rendered and converted mechanically to OpenAPI 3, and a
// Validator that holds requests and responses to it. The function tests check every exchange through it
// (shared/service/servicetest), so the document cannot drift from the code; the dev server serves the OpenAPI 3
// rendition to clients and docs.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// DocumentPath is where the gateway document lives, relative to the repository root.
const DocumentPath = "opentofu/gateway/openapi.yaml"

// Media types of the two kinds of answer: every success that has a body is JSON, every error a problem.
const (
	JSON    = "application/json"
	Problem = "application/problem+json"
)

// templateVar matches an OpenTofu template variable of the document; "$${" is the document's literal "${".
var templateVar = regexp.MustCompile(`\$?\$\{([A-Za-z0-9_]+)\}`)

// Render fills the document's OpenTofu template variables the way modules/api_gateway does, with stand-in
// values (backend_<function> becomes https://<function>.backend.invalid), so the text parses as plain YAML.
func Render(src []byte) []byte {
	return templateVar.ReplaceAllFunc(src, func(m []byte) []byte {
		if bytes.HasPrefix(m, []byte("$$")) {
			return m[1:]
		}
		name := string(templateVar.FindSubmatch(m)[1])
		if fn, ok := strings.CutPrefix(name, "backend_"); ok {
			return []byte("https://" + strings.ReplaceAll(fn, "_", "-") + ".backend.invalid")
		}
		return []byte("https://" + strings.ReplaceAll(name, "_", "-") + ".invalid")
	})
}

// FindDocument returns the gateway document of the repository that contains start: it walks up from start
// to the folder holding go.work (the repository root) and returns the document's path there.
func FindDocument(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("find gateway document: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			doc := filepath.Join(dir, filepath.FromSlash(DocumentPath))
			if _, err := os.Stat(doc); err != nil {
				return "", fmt.Errorf("find gateway document: %w", err)
			}
			return doc, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find gateway document: no go.work in %s or any parent", start)
		}
		dir = parent
	}
}

// ReadDocument reads the gateway document at path and converts it with Convert.
func ReadDocument(path string) (*openapi3.T, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read gateway document: %w", err)
	}
	return Convert(src)
}

// Convert renders the Swagger 2.0 gateway document src and converts it to OpenAPI 3. The conversion is
// kin-openapi's, with one rule of this platform on top: Swagger 2.0 declares media types per operation, not per
// response, so each response keeps only the type it really has (application/problem+json from 400 up,
// application/json below), where the document produces that type. The result is validated as an OpenAPI 3
// document.
func Convert(src []byte) (*openapi3.T, error) {
	var tree any
	if err := yaml.Unmarshal(Render(src), &tree); err != nil {
		return nil, fmt.Errorf("parse gateway document: %w", err)
	}
	j, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("parse gateway document: %w", err)
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(j, &doc2); err != nil {
		return nil, fmt.Errorf("parse gateway document: %w", err)
	}
	// Swagger 2.0 lets an operation inherit the document's produces; kin-openapi's conversion reads only the
	// operation's own, so hand it down first.
	for _, item := range doc2.Paths {
		for _, op := range item.Operations() {
			if len(op.Produces) == 0 {
				op.Produces = doc2.Produces
			}
		}
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert gateway document to OpenAPI 3: %w", err)
	}
	// API Gateway's JWT check is written as an OAuth 2 implicit flow with an empty authorization URL (the form its
	// x-google-issuer extension hangs on); what a client sees is a bearer JWT.
	if doc.Components != nil {
		for _, s := range doc.Components.SecuritySchemes {
			if s.Value != nil && s.Value.Extensions["x-google-issuer"] != nil {
				ext := s.Value.Extensions
				s.Value = openapi3.NewJWTSecurityScheme()
				s.Value.Extensions = ext
				s.Value.Description = "An access token from POST /v1/auth/login, sent as Authorization: Bearer <token>."
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for code, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				want := JSON
				if n, err := strconv.Atoi(code); err != nil || n >= 400 {
					want = Problem
				}
				// A document that does not produce the type keeps what it declares; TestDocumentIsComplete
				// refuses such a document, and apicheck can still read an old one.
				if media := resp.Value.Content.Get(want); media != nil {
					resp.Value.Content = openapi3.Content{want: media}
				}
			}
		}
	}
	if err := doc.Validate(openapi3.NewLoader().Context); err != nil {
		return nil, fmt.Errorf("gateway document as OpenAPI 3: %w", err)
	}
	return doc, nil
}

// Published returns the rendition of doc for clients and documentation, a copy without the CORS preflight
// operations (the edge answers those; no client calls them) and without the gateway's x-google extensions.
func Published(doc *openapi3.T) (*openapi3.T, error) {
	j, err := doc.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("copy OpenAPI 3 document: %w", err)
	}
	out, err := openapi3.NewLoader().LoadFromData(j)
	if err != nil {
		return nil, fmt.Errorf("copy OpenAPI 3 document: %w", err)
	}
	out.Extensions = withoutGoogle(out.Extensions)
	for _, item := range out.Paths.Map() {
		item.Options = nil
		for _, op := range item.Operations() {
			op.Extensions = withoutGoogle(op.Extensions)
		}
	}
	if out.Components != nil {
		for _, s := range out.Components.SecuritySchemes {
			if s.Value != nil {
				s.Value.Extensions = withoutGoogle(s.Value.Extensions)
			}
		}
	}
	return out, nil
}

func withoutGoogle(ext map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range ext {
		if !strings.HasPrefix(k, "x-google-") {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// PublishedJSON is Published encoded as indented JSON, the form GET /openapi.json serves.
func PublishedJSON(doc *openapi3.T) ([]byte, error) {
	pub, err := Published(doc)
	if err != nil {
		return nil, err
	}
	j, err := json.MarshalIndent(pub, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI 3 rendition: %w", err)
	}
	return j, nil
}
