package main

import (
	"strings"
	"testing"
)

const base = `swagger: "2.0"
info: {title: t, version: 1.2.0}
consumes: [application/json]
produces: [application/json, application/problem+json]
paths:
  /v1/things:
    post:
      operationId: createThing
      x-google-backend: {address: "${backend_things}"}
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: "#/definitions/ThingInput"}}
      responses:
        "201": {description: created, schema: {$ref: "#/definitions/Thing"}}
        "422": {description: invalid, schema: {$ref: "#/definitions/Problem"}}
    get:
      operationId: listThings
      x-google-backend: {address: "${backend_things}"}
      responses:
        "200": {description: ok, schema: {$ref: "#/definitions/Thing"}}
definitions:
  ThingInput:
    type: object
    additionalProperties: false
    required: [name]
    properties:
      name: {type: string}
      note: {type: string}
  Thing:
    type: object
    additionalProperties: false
    required: [id, name, status]
    properties:
      id: {type: string}
      name: {type: string}
      status: {type: string, enum: [open, done]}
  Problem:
    type: object
    properties:
      code: {type: string}
`

func TestCompare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		edit     func(string) string
		breaking string // a rule id oasdiff reports, "" for none
		allowed  bool
	}{
		{name: "unchanged", edit: func(s string) string { return s }, allowed: true},
		{name: "optional response field added", allowed: true, edit: func(s string) string {
			return strings.Replace(s, "      status: {type: string, enum: [open, done]}\n",
				"      status: {type: string, enum: [open, done]}\n      owner: {type: string}\n", 1)
		}},
		{name: "response field removed", breaking: "response-required-property-removed", edit: func(s string) string {
			return strings.Replace(strings.Replace(s, "required: [id, name, status]", "required: [id, name]", 1),
				"      status: {type: string, enum: [open, done]}\n", "", 1)
		}},
		{name: "request field made required", breaking: "request-property-became-required", edit: func(s string) string {
			return strings.Replace(s, "required: [name]", "required: [name, note]", 1)
		}},
		{name: "operation removed", breaking: "api-removed-without-deprecation", edit: func(s string) string {
			i := strings.Index(s, "    get:\n")
			j := strings.Index(s, "definitions:")
			return s[:i] + s[j:]
		}},
		{name: "response field removed with the major version raised", breaking: "response-required-property-removed", allowed: true,
			edit: func(s string) string {
				s = strings.Replace(s, "version: 1.2.0", "version: 2.0.0", 1)
				return strings.Replace(strings.Replace(s, "required: [id, name, status]", "required: [id, name]", 1),
					"      status: {type: string, enum: [open, done]}\n", "", 1)
			}},
		{name: "version lowered", edit: func(s string) string { return strings.Replace(s, "version: 1.2.0", "version: 0.9.0", 1) }},
		{name: "version not semantic", edit: func(s string) string { return strings.Replace(s, "version: 1.2.0", "version: v2", 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			report, err := compare([]byte(base), []byte(tc.edit(base)))
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(report.Breaking, "\n")
			switch {
			case tc.breaking == "" && len(report.Breaking) > 0:
				t.Errorf("breaking changes reported for a compatible revision:\n%s", joined)
			case tc.breaking != "" && !strings.Contains(joined, "["+tc.breaking+"]"):
				t.Errorf("breaking changes %q, want one [%s]", joined, tc.breaking)
			}
			if err := report.Verdict(); (err == nil) != tc.allowed {
				t.Errorf("Verdict = %v, want allowed %v", err, tc.allowed)
			}
		})
	}
}
