package contracttest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/contract"
	"github.com/coditect/hyperscale/shared/contract/contracttest"
)

const (
	id      = "01936f4e-8c3a-7b1e-9f00-000000000001"
	thing   = `{"id":"` + id + `","name":"a","status":"open"}`
	problem = `{"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}`
)

func TestCheck(t *testing.T) {
	src, err := os.ReadFile("../testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := contract.Convert(src)
	if err != nil {
		t.Fatal(err)
	}
	v, err := contracttest.NewValidator(d, "GET /healthz")
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
		{name: "empty value where allowed", method: "GET", path: "/v1/things?order=", status: 200, contentType: contract.JSON, respBody: thing},
		{name: "empty value refused yet accepted", method: "GET", path: "/v1/things?status=", status: 200, contentType: contract.JSON,
			respBody: thing, wantErr: "the document refuses the request"},
		{name: "allowed empty value is still checked when given", method: "GET", path: "/v1/things?order=size", status: 200,
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
			err := v.Check(context.Background(), contracttest.Exchange{Request: r, RequestBody: []byte(tc.reqBody), Status: tc.status,
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
