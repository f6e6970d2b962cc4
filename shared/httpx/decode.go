package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// MaxBodyBytes bounds every JSON request body (DESIGN.md, HTTP).
const MaxBodyBytes = 1 << 20

// Decode reads r's body as exactly one JSON value into v. It refuses other media types (415), bodies over
// MaxBodyBytes (413), malformed JSON and trailing data (400), unknown fields and wrongly typed values (422,
// naming the field), answering each with a problem the caller returns as is.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return NewProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeProblem(err)
		}
		return NewProblem(http.StatusBadRequest, "malformed_json", "the body must hold a single JSON value")
	}
	return nil
}

func decodeProblem(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooBig    *http.MaxBytesError
		malformed = NewProblem(http.StatusBadRequest, "malformed_json", "the body is not valid JSON")
	)
	switch {
	case errors.As(err, &tooBig):
		return NewProblem(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes))
	case errors.Is(err, io.EOF):
		return NewProblem(http.StatusBadRequest, "empty_body", "a JSON body is required")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return malformed
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return NewProblem(http.StatusBadRequest, "malformed_json", "the body must be a JSON object")
		}
		return Invalid(valid.FieldError{Field: field, Message: "must be " + typeErr.Type.String()})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields; its message is stable and documented.
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(valid.FieldError{Field: field, Message: "unknown field"})
	}
	return malformed
}

// PathID reads the path segment name as a UUID. A segment that is not a UUID cannot name anything, so it is
// answered 404 like any other unknown id, never 400: the answer does not tell malformed from absent.
func PathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, NotFound()
	}
	return id, nil
}
