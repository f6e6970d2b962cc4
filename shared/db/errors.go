package db

import (
	"errors"
	"fmt"

	"github.com/coditect/hyperscale/shared/fault"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors that store methods return (wrapped) so the HTTP edge can map them by kind without knowing SQL.
var (
	// ErrNotFound means the row does not exist, or exists only for another tenant.
	ErrNotFound = fault.New(fault.NotFound, "not_found", "the resource does not exist")
	// ErrConflict means a unique constraint refused the write.
	ErrConflict = fault.New(fault.Conflict, "conflict", "the resource conflicts with an existing one")
	// ErrForeignKey means the write referred to a row that does not exist. Validation should have caught it;
	// the constraint still means the input was wrong, not the server.
	ErrForeignKey = fault.New(fault.Invalid, "constraint_violation", "the request breaks a rule of the data model")
	// ErrCheck means a check or not-null constraint refused the write.
	ErrCheck = fault.New(fault.Invalid, "constraint_violation", "the request breaks a rule of the data model")
)

// classified keeps the driver's error in the chain beside the sentinel, so errors.Is answers for both and
// the constraint name stays available to callers that need to tell two unique keys apart.
type classified struct {
	sentinel error
	cause    error
}

func (e *classified) Error() string   { return fmt.Sprintf("%v: %v", e.sentinel, e.cause) }
func (e *classified) Unwrap() []error { return []error{e.sentinel, e.cause} }

// Classify maps PostgreSQL and pgx errors to the package's sentinel errors, keeping the original in the chain.
// Errors it does not recognise, and nil, are returned unchanged.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var already *classified
	if errors.As(err, &already) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &classified{ErrNotFound, err}
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505", "23P01": // unique_violation, exclusion_violation
		return &classified{ErrConflict, err}
	case "23503": // foreign_key_violation
		return &classified{ErrForeignKey, err}
	case "23514", "23502": // check_violation, not_null_violation
		return &classified{ErrCheck, err}
	}
	return err
}

// Constraint returns the name of the constraint that refused the write behind err, or "".
func Constraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}
