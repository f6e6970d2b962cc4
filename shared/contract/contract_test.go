package contract_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/contract"
)

// doc is a small gateway document in the real one's form: template variables, document-level produces,
// API Gateway's JWT scheme, a preflight operation.
const doc = `swagger: "2.0"
info: {title: t, version: 1.0.0}
consumes: [application/json]
produces: [application/json, application/problem+json]
security:
  - jwt: []
securityDefinitions:
  jwt:
    type: oauth2
    flow: implicit
    authorizationUrl: ""
    scopes: {}
    x-google-issuer: "${token_issuer}"
paths:
  /v1/things/{id}:
    options:
      operationId: preflightThing
      security: []
      x-google-backend: {address: "${backend_things}"}
      parameters:
        - {name: id, in: path, required: true, type: string}
      responses:
        "204": {description: preflight}
    put:
      operationId: putThing
      x-google-backend: {address: "${backend_things}"}
      description: "a literal $${not_a_variable}"
      parameters:
        - {name: id, in: path, required: true, type: string, format: uuid}
        - {name: body, in: body, required: true, schema: {$ref: "#/definitions/ThingInput"}}
      responses:
        "200": {description: ok, schema: {$ref: "#/definitions/Thing"}}
        "404": {description: gone, schema: {$ref: "#/definitions/Problem"}}
        "422": {description: invalid, schema: {$ref: "#/definitions/Problem"}}
definitions:
  ThingInput:
    type: object
    additionalProperties: false
    required: [name]
    properties:
      name: {type: string, minLength: 1, maxLength: 10}
  Thing:
    type: object
    additionalProperties: false
    required: [id, name, status]
    properties:
      id: {type: string, format: uuid}
      name: {type: string}
      status: {type: string, enum: [open, done]}
  Problem:
    type: object
    required: [type, title, status, code]
    additionalProperties: true
    x-free-form: a problem may carry extension members (RFC 9457 section 3.2)
    properties:
      type: {type: string}
      title: {type: string}
      status: {type: integer}
      code: {type: string}
`

const (
	id      = "01936f4e-8c3a-7b1e-9f00-000000000001"
	thing   = `{"id":"` + id + `","name":"a","status":"open"}`
	problem = `{"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}`
)

func TestConvert(t *testing.T) {
	d, err := contract.Convert([]byte(doc))
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

func TestCheck(t *testing.T) {
	d, err := contract.Convert([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	v, err := contract.NewValidator(d, "GET /healthz")
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/things/" + id
	for _, tc := range []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		contentType  string
		respBody     string
		wantErr      string // "" when the exchange keeps to the document
	}{
		{name: "kept", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 200, contentType: contract.JSON, respBody: thing},
		{name: "declared error", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 404, contentType: contract.Problem, respBody: problem},
		{name: "refused request refused", method: "PUT", path: path, reqBody: `{"name":"a","extra":1}`, status: 422,
			contentType: contract.Problem, respBody: problem},
		{name: "unknown route answered 404", method: "GET", path: "/v1/nothing", status: 404, contentType: contract.Problem, respBody: problem},
		{name: "private route", method: "GET", path: "/healthz", status: 200, contentType: contract.JSON, respBody: `{"status":"ok"}`},
		{name: "preflight", method: "OPTIONS", path: path, status: 204},

		{name: "field removed from the answer", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 200,
			contentType: contract.JSON, respBody: `{"id":"` + id + `","name":"a"}`, wantErr: `property "status" is missing`},
		{name: "undeclared field in the answer", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 200,
			contentType: contract.JSON, respBody: `{"id":"` + id + `","name":"a","status":"open","secret":1}`, wantErr: `property "secret" is unsupported`},
		{name: "value outside the enum", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 200,
			contentType: contract.JSON, respBody: `{"id":"` + id + `","name":"a","status":"lost"}`, wantErr: "allowed values"},
		{name: "id not a uuid", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 200,
			contentType: contract.JSON, respBody: `{"id":"42","name":"a","status":"open"}`, wantErr: "uuid"},
		{name: "undeclared status", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 409,
			contentType: contract.Problem, respBody: problem, wantErr: "status is not supported"},
		{name: "error served as plain JSON", method: "PUT", path: path, reqBody: `{"name":"a"}`, status: 404,
			contentType: contract.JSON, respBody: problem, wantErr: "response header Content-Type has unexpected value"},
		{name: "refused request accepted", method: "PUT", path: path, reqBody: `{"name":"a","extra":1}`, status: 200,
			contentType: contract.JSON, respBody: thing, wantErr: "the document refuses the request, yet it was answered 200"},
		{name: "request breaking a limit accepted", method: "PUT", path: path, reqBody: `{"name":"far too long a name"}`, status: 200,
			contentType: contract.JSON, respBody: thing, wantErr: "the document refuses the request"},
		{name: "bad path parameter accepted", method: "PUT", path: "/v1/things/42", reqBody: `{"name":"a"}`, status: 200,
			contentType: contract.JSON, respBody: thing, wantErr: "the document refuses the request"},
		{name: "undeclared route answered", method: "GET", path: "/v1/nothing", status: 200, contentType: contract.JSON,
			respBody: `{}`, wantErr: "is not a route of the gateway document"},
		{name: "undeclared method answered", method: "DELETE", path: path, status: 204, wantErr: "is not a route of the gateway document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.reqBody != "" {
				r.Header.Set("Content-Type", contract.JSON)
			}
			r.Header.Set("Authorization", "Bearer x")
			h := http.Header{}
			if tc.contentType != "" {
				h.Set("Content-Type", tc.contentType)
			}
			err := v.Check(context.Background(), contract.Exchange{Request: r, RequestBody: []byte(tc.reqBody), Status: tc.status,
				Header: h, ResponseBody: []byte(tc.respBody)})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Check = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Check = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
