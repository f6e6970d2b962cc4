package contract_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/coditect/hyperscale/shared/contract"
)

// TestDocumentIsComplete holds the gateway document to what a client generator and a fuzzer need: every
// request body and response a named schema, every error a Problem, every parameter typed, and no object
// schema without its properties (and closed to others, so an undeclared field fails the function tests)
// unless it says with x-free-form why it is free-form by design.
func TestDocumentIsComplete(t *testing.T) {
	path, err := contract.FindDocument(".")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := contract.ReadDocument(path)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if method == "OPTIONS" {
				continue
			}
			name := method + " " + p + " (" + op.OperationID + ")"
			for _, prm := range op.Parameters {
				if prm.Value.Schema == nil || prm.Value.Schema.Value == nil || prm.Value.Schema.Value.Type == nil {
					add("%s: parameter %s has no type", name, prm.Value.Name)
				}
			}
			if op.RequestBody != nil {
				for mt, media := range op.RequestBody.Value.Content {
					if media.Schema == nil || media.Schema.Ref == "" {
						add("%s: request body (%s) is not a named schema", name, mt)
					}
				}
			}
			for code, resp := range op.Responses.Map() {
				n, _ := strconv.Atoi(code)
				if n == 204 || (n >= 300 && n < 400) {
					continue
				}
				media := resp.Value.Content
				if len(media) == 0 {
					add("%s: response %s has no schema", name, code)
					continue
				}
				want := contract.JSON
				if n >= 400 {
					want = contract.Problem
				}
				if len(media) != 1 || media.Get(want) == nil {
					add("%s: response %s is served as %v, want %s alone", name, code, slices.Sorted(maps.Keys(media)), want)
				}
				for _, m := range media {
					switch {
					case n >= 400 && (m.Schema == nil || m.Schema.Ref != "#/components/schemas/Problem"):
						add("%s: error response %s is not a Problem", name, code)
					case m.Schema == nil || m.Schema.Ref == "":
						add("%s: response %s is not a named schema", name, code)
					}
				}
			}
		}
	}
	for name, s := range doc.Components.Schemas {
		checkSchema(s.Value, "#/definitions/"+name, add)
	}
	slices.Sort(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// checkSchema reports each object schema in s (s itself, its properties, items and compositions, inline ones
// only: named ones are checked under their own name) that is not closed over its declared properties.
func checkSchema(s *openapi3.Schema, at string, add func(string, ...any)) {
	if s == nil {
		return
	}
	if reason, ok := s.Extensions["x-free-form"].(string); ok {
		if strings.TrimSpace(reason) == "" {
			add("%s: x-free-form gives no reason", at)
		}
		return
	}
	if s.Type.Is("object") || len(s.Properties) > 0 {
		closed := s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has
		switch {
		case len(s.Properties) == 0 && s.AdditionalProperties.Schema == nil:
			add("%s: an object without properties (declare them, or say why it is free-form with x-free-form)", at)
		case len(s.Properties) > 0 && !closed:
			add("%s: additionalProperties is not false, so an undeclared field would pass", at)
		}
	}
	visit := func(r *openapi3.SchemaRef, where string) {
		if r != nil && r.Ref == "" {
			checkSchema(r.Value, where, add)
		}
	}
	for k, p := range s.Properties {
		visit(p, at+"/"+k)
	}
	visit(s.Items, at+"/items")
	visit(s.AdditionalProperties.Schema, at+"/additionalProperties")
	for i, c := range slices.Concat(s.AllOf, s.AnyOf, s.OneOf) {
		visit(c, at+"/"+strconv.Itoa(i))
	}
}
