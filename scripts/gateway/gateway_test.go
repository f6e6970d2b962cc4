package gateway

import (
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/contract"
)

func TestLoadRealDocument(t *testing.T) {
	t.Parallel()
	path, err := contract.FindDocument(".")
	if err != nil {
		t.Fatal(err)
	}
	routes, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	want := []Route{
		{Method: "GET", Path: "/.well-known/jwks.json", Pattern: "GET /.well-known/jwks.json", Function: "auth", OperationID: "getJWKS", Secured: false},
		{Method: "POST", Path: "/v1/auth/login", Pattern: "POST /v1/auth/login", Function: "auth", OperationID: "login", Secured: false},
		{Method: "GET", Path: "/v1/projects", Pattern: "GET /v1/projects", Function: "projects", OperationID: "listProjects", Secured: true},
		{Method: "POST", Path: "/v1/projects", Pattern: "POST /v1/projects", Function: "projects", OperationID: "createProject", Secured: true},
		{Method: "DELETE", Path: "/v1/projects/{id}", Pattern: "DELETE /v1/projects/{id}", Function: "projects", OperationID: "deleteProject", Secured: true},
		{Method: "GET", Path: "/v1/projects/{id}", Pattern: "GET /v1/projects/{id}", Function: "projects", OperationID: "getProject", Secured: true},
		{Method: "PUT", Path: "/v1/projects/{id}", Pattern: "PUT /v1/projects/{id}", Function: "projects", OperationID: "updateProject", Secured: true},
		{Method: "POST", Path: "/v1/tenants", Pattern: "POST /v1/tenants", Function: "tenants", OperationID: "createTenant", Secured: false},
	}
	// Later slices add operations; this one's must stay exactly as they are, in sorted order.
	var got []Route
	for _, r := range routes {
		if slices.ContainsFunc(want, func(w Route) bool { return w.OperationID == r.OperationID }) {
			got = append(got, r)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes of the first slice:\n got %+v\nwant %+v", got, want)
	}
	if !slices.IsSortedFunc(routes, func(a, b Route) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	}) {
		t.Errorf("routes are not sorted by path, then method: %+v", routes)
	}
}

// valid is a minimal well-formed document; the cases below break it one way each.
const valid = `
swagger: "2.0"
info: {title: t, version: "1"}
security:
  - jwt: []
securityDefinitions:
  jwt: {type: oauth2, flow: implicit, authorizationUrl: ""}
paths:
  /v1/webhooks/stripe:
    post:
      operationId: receiveStripeEvent
      security: []
      x-google-backend:
        address: ${backend_stripe_webhook}
        path_translation: APPEND_PATH_TO_ADDRESS
      responses: {"200": {description: ok}}
  /v1/things/{id}:
    parameters:
      - {name: id, in: path, required: true, type: string}
    get:
      operationId: getThing
      x-google-backend:
        address: ${backend_things}
        path_translation: APPEND_PATH_TO_ADDRESS
      responses: {"200": {description: ok}}
    patch:
      operationId: patchThing
      security:
        - jwt: []
      x-google-backend: {address: "${backend_things}", path_translation: APPEND_PATH_TO_ADDRESS}
      responses: {"200": {description: ok}}
`

func TestLoadInline(t *testing.T) {
	t.Parallel()
	routes, err := Load(strings.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Method: "GET", Path: "/v1/things/{id}", Pattern: "GET /v1/things/{id}", Function: "things", OperationID: "getThing", Secured: true},
		{Method: "PATCH", Path: "/v1/things/{id}", Pattern: "PATCH /v1/things/{id}", Function: "things", OperationID: "patchThing", Secured: true},
		{Method: "POST", Path: "/v1/webhooks/stripe", Pattern: "POST /v1/webhooks/stripe", Function: "stripe-webhook", OperationID: "receiveStripeEvent", Secured: false},
	}
	if !slices.Equal(routes, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", routes, want)
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string // every one must appear in the error
	}{
		{
			name: "swagger version",
			doc:  strings.Replace(valid, `swagger: "2.0"`, `swagger: "3.0"`, 1),
			want: []string{`swagger is "3.0"`, `want "2.0"`},
		},
		{
			name: "openapi 3 document",
			doc:  strings.Replace(valid, `swagger: "2.0"`, `openapi: 3.0.3`, 1),
			want: []string{`swagger is ""`},
		},
		{
			name: "missing x-google-backend",
			doc: strings.Replace(valid, `      x-google-backend: {address: "${backend_things}", path_translation: APPEND_PATH_TO_ADDRESS}
`, "", 1),
			want: []string{"PATCH /v1/things/{id}", "missing x-google-backend"},
		},
		{
			name: "literal address",
			doc:  strings.Replace(valid, `address: ${backend_stripe_webhook}`, `address: https://stripe-webhook.run.app`, 1),
			want: []string{"POST /v1/webhooks/stripe", `address "https://stripe-webhook.run.app" is not of the form ${backend_<function>}`},
		},
		{
			name: "other template variable",
			doc:  strings.Replace(valid, `address: ${backend_stripe_webhook}`, `address: ${stripe_webhook}`, 1),
			want: []string{"POST /v1/webhooks/stripe", `address "${stripe_webhook}"`},
		},
		{
			name: "constant address",
			doc: strings.Replace(valid, `address: ${backend_things}
        path_translation: APPEND_PATH_TO_ADDRESS`, `address: ${backend_things}
        path_translation: CONSTANT_ADDRESS`, 1),
			want: []string{"GET /v1/things/{id}", `path_translation is "CONSTANT_ADDRESS", want APPEND_PATH_TO_ADDRESS`},
		},
		{
			name: "missing path_translation",
			doc: strings.Replace(valid, `address: ${backend_things}
        path_translation: APPEND_PATH_TO_ADDRESS`, `address: ${backend_things}`, 1),
			want: []string{"GET /v1/things/{id}", `path_translation is ""`},
		},
		{
			name: "duplicate operationId",
			doc:  strings.Replace(valid, "operationId: patchThing", "operationId: getThing", 1),
			want: []string{"PATCH /v1/things/{id}", `duplicate operationId "getThing"`, "GET /v1/things/{id}"},
		},
		{
			name: "missing operationId",
			doc:  strings.Replace(valid, "      operationId: receiveStripeEvent\n", "", 1),
			want: []string{"POST /v1/webhooks/stripe", "missing operationId"},
		},
		{
			name: "undefined security scheme",
			doc:  strings.Replace(valid, "      security:\n        - jwt: []", "      security:\n        - jtw: []", 1),
			want: []string{"PATCH /v1/things/{id}", `"jtw" is not in securityDefinitions`},
		},
		{
			name: "partial-segment parameter",
			doc:  strings.Replace(valid, "/v1/things/{id}:", "/v1/things/{id}.json:", 1),
			want: []string{"GET /v1/things/{id}.json", "must be a whole segment"},
		},
		{
			name: "same route under another parameter name",
			doc: valid + `  /v1/things/{thing}:
    get:
      operationId: getThingAgain
      x-google-backend: {address: "${backend_things}", path_translation: APPEND_PATH_TO_ADDRESS}
      responses: {"200": {description: ok}}
`,
			want: []string{"GET /v1/things/{thing}", "matches the same requests as GET /v1/things/{id}"},
		},
		{
			name: "every problem at once",
			doc: strings.NewReplacer(
				"      operationId: receiveStripeEvent\n", "",
				"path_translation: APPEND_PATH_TO_ADDRESS}", "path_translation: CONSTANT_ADDRESS}",
			).Replace(valid),
			want: []string{"POST /v1/webhooks/stripe: missing operationId", "PATCH /v1/things/{id}: x-google-backend path_translation"},
		},
		{
			name: "not yaml",
			doc:  "swagger: [",
			want: []string{"parse gateway document"},
		},
		{
			name: "no operations",
			doc:  "swagger: \"2.0\"\npaths: {}\n",
			want: []string{"no operations"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			routes, err := Load(strings.NewReader(tt.doc))
			if err == nil {
				t.Fatalf("Load accepted the document: %+v", routes)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
