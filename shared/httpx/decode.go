package httpx

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/coditect/hyperscale/shared/valid"
)

// MaxBodyBytes bounds every JSON request body (DESIGN.md, HTTP).
const MaxBodyBytes = 1 << 20

// Decode reads r's body as exactly one JSON value into v. It refuses other media types (415), bodies over
// MaxBodyBytes (413), bodies not sent in time (408, see Edge.BodyReadTimeout), malformed JSON and trailing
// data (400), and answers 422 naming the field for unknown members, wrongly typed values, duplicate member
// names, invalid UTF-8, null where an object is required and ids not in their canonical form (valid.ParseID).
// Member names match exactly: "Name" is not "name". Each failure is a problem the caller returns as is.
//
// The decoder is github.com/go-json-experiment/json (docs/2026-12-03-strict-json.md): encoding/json matches
// names case-insensitively, keeps the last of duplicate members and replaces invalid UTF-8 silently.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return NewProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		}
	}
	body, err := ReadBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return NewProblem(http.StatusBadRequest, "empty_body", "a JSON body is required")
	}
	if err := json.Unmarshal(body, v, decodeOptions); err != nil {
		return decodeProblem(err, body)
	}
	return nil
}

// ReadBody reads r's whole body, at most MaxBodyBytes of it, and answers a body that is too large with 413
// and one the client did not finish sending within the edge's bound with 408. Handlers that need the raw
// bytes (hashing, signatures) read them with it, so every body has the same limits.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return nil, BodyProblem(err)
	}
	return body, nil
}

// BodyProblem returns the problem for err, an error from reading a request body: 413 for a body over
// MaxBodyBytes, 408 (request_timeout, closing the connection) for one not sent in time, 400 otherwise.
func BodyProblem(err error) *Problem {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return NewProblem(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return RequestTimeout()
	}
	return NewProblem(http.StatusBadRequest, "malformed_json", "the body could not be read")
}

// RequestTimeout returns the 408 problem for a request body not sent in time. The connection is closed after
// it, since the rest of the body may still be on its way.
func RequestTimeout() *Problem {
	return NewProblem(http.StatusRequestTimeout, "request_timeout", "the request body was not sent in time").WithHeader("Connection", "close")
}

// fieldError is a failure a custom unmarshaler reports with the message the client should read.
type fieldError string

func (e fieldError) Error() string { return string(e) }

const (
	errNullObject = fieldError("must be an object, not null")
	errID         = fieldError("must be an id: a lower-case UUID like 0190a5e4-7c1e-7b3a-9d2f-4c5e6f708192")
)

// decodeOptions are the decoder's settings beyond its strict defaults (exact names, unique names, valid
// UTF-8): unknown members are errors, ids take one spelling, and null never stands for an object.
var decodeOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
	json.WithUnmarshalers(json.JoinUnmarshalers(
		json.UnmarshalFromFunc(canonicalID),
		json.UnmarshalFromFunc(nullObject),
	)),
)

// canonicalID reads a JSON string into an id only in its canonical form; anything else takes the default path
// (null leaves it, another kind is a type error).
func canonicalID(dec *jsontext.Decoder, id *uuid.UUID) error {
	if dec.PeekKind() != '"' {
		return errors.ErrUnsupported
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	parsed, ok := valid.ParseID(tok.String())
	if !ok {
		return errID
	}
	*id = parsed
	return nil
}

// nullObject refuses null for a struct or map that does not decode itself: for a body or member that must be
// an object, null is a client's mistake, not a way to say "empty" (a nullable member is a pointer, and merge
// patch fields decode null themselves).
func nullObject(dec *jsontext.Decoder, v any) error {
	if dec.PeekKind() != 'n' {
		return errors.ErrUnsupported
	}
	switch v.(type) {
	case json.Unmarshaler, json.UnmarshalerFrom, encoding.TextUnmarshaler:
		return errors.ErrUnsupported
	}
	if k := reflect.TypeOf(v).Elem().Kind(); k == reflect.Struct || k == reflect.Map {
		return errNullObject
	}
	return errors.ErrUnsupported
}

func decodeProblem(err error, body []byte) error {
	var (
		syntax    *jsontext.SyntacticError
		semantic  *json.SemanticError
		malformed = NewProblem(http.StatusBadRequest, "malformed_json", "the body is not valid JSON")
	)
	switch {
	case errors.As(err, &syntax):
		field := fieldName(syntax.JSONPointer)
		switch {
		case errors.Is(syntax.Err, jsontext.ErrDuplicateName):
			return Invalid(valid.FieldError{Field: field, Message: "is given more than once"})
		case !utf8.Valid(body) && field != "":
			// The decoder's invalid-UTF-8 error is not exported; the body being invalid is what it means.
			return Invalid(valid.FieldError{Field: field, Message: "must be valid UTF-8"})
		}
		return malformed
	case errors.As(err, &semantic):
		field := fieldName(semantic.JSONPointer)
		var fe fieldError
		switch {
		case errors.Is(semantic.Err, json.ErrUnknownName):
			return Invalid(valid.FieldError{Field: field, Message: "unknown field"})
		case field == "":
			return NewProblem(http.StatusBadRequest, "malformed_json", "the body must be a JSON object")
		case errors.As(semantic.Err, &fe):
			return Invalid(valid.FieldError{Field: field, Message: string(fe)})
		}
		return Invalid(valid.FieldError{Field: field, Message: "must be " + kindOf(semantic.GoType)})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed
	}
	return malformed
}

// fieldName spells a JSON Pointer ("/owner/name", "/labels/2") the way field errors name fields
// ("owner.name", "labels.2").
func fieldName(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// kindOf names the JSON a Go type takes, for "must be ..." messages.
func kindOf(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "of another type"
	}
	if t == reflect.TypeFor[uuid.UUID]() {
		return "an id (string)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// PathID reads the path segment name as an id in its canonical form (valid.ParseID). A segment that is not
// one cannot name anything, so it is answered 404 like any other unknown id, never 400: the answer does not
// tell malformed from absent, and each resource has exactly one URL.
func PathID(r *http.Request, name string) (uuid.UUID, error) {
	id, ok := valid.ParseID(r.PathValue(name))
	if !ok {
		return uuid.Nil, NotFound()
	}
	return id, nil
}
