package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// NewIdentity is an identity to create: its email (the key, one identity per email), its name, and optionally
// the hash of its password and the time its email was proven.
type NewIdentity struct {
	Email        string
	Name         string
	PasswordHash string
	VerifiedAt   *time.Time
}

// Found is the identity FindOrCreate returned: its id and stored name, and whether this call created it.
type Found struct {
	ID      uuid.UUID
	Name    string
	Created bool
}

// FindOrCreate returns the identity with n.Email inside tx, a directory transaction, inserting n when there
// is none. It is the one writer of directory.identities rows, with one rule for a concurrent insert of the
// same email: the INSERT ... ON CONFLICT (email) DO NOTHING waits for the other transaction, and when that
// committed the row, a second statement (a new snapshot under READ COMMITTED) reads it, so two concurrent
// creates give one identity. A caller to whom an existing identity means something else (a sign-up must not
// take over an identity whose password it did not check) refuses a Found that is not Created.
func FindOrCreate(ctx context.Context, tx pgx.Tx, n NewIdentity) (Found, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Found{}, fmt.Errorf("create identity: %w", err)
	}
	var hash *string
	if n.PasswordHash != "" {
		hash = &n.PasswordHash
	}
	f := Found{Created: true}
	err = tx.QueryRow(ctx, `INSERT INTO directory.identities (id, email, name, password_hash, email_verified_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING RETURNING id, name`,
		id, n.Email, n.Name, hash, n.VerifiedAt).Scan(&f.ID, &f.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		f.Created = false
		err = tx.QueryRow(ctx, `SELECT id, name FROM directory.identities WHERE email = $1`, n.Email).Scan(&f.ID, &f.Name)
	}
	if err != nil {
		return Found{}, fmt.Errorf("create identity: %w", err)
	}
	return f, nil
}
