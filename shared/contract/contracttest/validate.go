// Package contracttest holds the exchanges of tests (a request and the answer it got) to the API contract, the
// gateway document as shared/contract converts it. shared/service/servicetest checks every exchange of the
// function and dev-server tests through it, so that the document cannot drift from the code.
package contracttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator holds exchanges (a request and the answer it got) to the document.
type Validator struct {
	router routers.Router
	// private are the "METHOD /path" routes every function serves beside the document's, for its platform
	// rather than through the gateway (the health check Cloud Run probes).
	private map[string]bool
	// formats are the string formats checked beyond kin-openapi's own (date, date-time, byte).
	formats []openapi3.SchemaValidationOption
}

// NewValidator returns a Validator of doc. private names the routes ("GET /healthz") that functions serve
// outside the gateway; exchanges with them are not checked. Strings of format uuid must be canonical UUIDs
// (RFC 9562) and strings of format email look like addresses; date and date-time are kin-openapi's own.
func NewValidator(doc *openapi3.T, private ...string) (*Validator, error) {
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route gateway document: %w", err)
	}
	v := &Validator{router: router, private: map[string]bool{}, formats: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
		openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
	}}
	for _, p := range private {
		v.private[p] = true
	}
	return v, nil
}

// Exchange is one request and the answer it got. Request's body is read from RequestBody, not Request.Body.
type Exchange struct {
	Request      *http.Request
	RequestBody  []byte
	Status       int
	Header       http.Header
	ResponseBody []byte
}

// Check reports how the exchange departs from the document:
//   - a request to a route the document does not have, unless it was answered 404 or 405 (the server agrees);
//   - a request the document refuses (a body, parameter or field it does not declare) that was answered below
//     400: the handler accepts what the contract says it refuses;
//   - an answer whose status the operation does not declare, whose media type is not the one declared for it
//     (application/problem+json for every error), or whose body does not match the declared schema (a missing
//     required field, an undeclared field where the schema forbids others, a wrong type, format or enum value).
func (v *Validator) Check(ctx context.Context, x Exchange) error {
	if v.private[x.Request.Method+" "+x.Request.URL.Path] {
		return nil
	}
	req := x.Request.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
			if x.Status == http.StatusNotFound || x.Status == http.StatusMethodNotAllowed {
				return nil
			}
			return fmt.Errorf("%s %s is not a route of the gateway document, yet was answered %d", req.Method, req.URL.Path, x.Status)
		}
		return fmt.Errorf("route %s %s: %w", req.Method, req.URL.Path, err)
	}
	name := req.Method + " " + route.Path
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true,
			SchemaValidationOptions: v.formats},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && x.Status < http.StatusBadRequest {
		return fmt.Errorf("%s: the document refuses the request, yet it was answered %d: %w", name, x.Status, err)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.Status,
		Header:                 x.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			SchemaValidationOptions: v.formats},
	}
	out.SetBodyBytes(x.ResponseBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s: answer %d departs from the document: %w", name, x.Status, err)
	}
	return nil
}
