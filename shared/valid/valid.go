// Package valid carries request-validation failures from domain code to the HTTP edge, which answers them as
// 422 with the failing fields, without the domain knowing about HTTP.
package valid

import "strings"

// FieldError names one failing field and why it failed. Code, when set, is a stable machine reason for this
// failure (such as "invalid_cursor"); a problem whose every failure shares one Code takes it as its own code.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

// Errors collects field errors while domain code checks its input.
type Errors []FieldError

// Add records that field failed for the reason message.
func (e *Errors) Add(field, message string) {
	*e = append(*e, FieldError{Field: field, Message: message})
}

// Check records message for field when ok is false.
func (e *Errors) Check(ok bool, field, message string) {
	if !ok {
		e.Add(field, message)
	}
}

// Err returns e as an error when it holds a failure, and nil otherwise.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Error lists the failures.
func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid: " + strings.Join(parts, "; ")
}
