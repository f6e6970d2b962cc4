package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ClaimEmail marks identityID's email as proven at now, inside tx (a directory transaction), on behalf of a
// proof of ownership that did not come through the identity's own credentials: a first single sign-on through
// an organization that verified the email's domain. It reports whether the email was unproven until now.
//
// An identity whose email was never proven may have been registered by someone else with that address, to be
// waiting there when its owner arrives (account pre-hijacking). So when it was unproven, whatever was set up
// without the proof goes: its password is dropped, its sessions (every refresh-token family) are revoked, and
// its open password-reset links are spent. The owner keeps the identity, signs in with the proof, and can set
// a password of their own through a reset. Its memberships stay: they are the organizations the identity was
// added to, which an attacker could not use any more.
func ClaimEmail(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, now time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE directory.identities SET email_verified_at = $2, password_hash = NULL, updated_at = $2
		WHERE id = $1 AND email_verified_at IS NULL`, identityID, now)
	if err != nil {
		return false, fmt.Errorf("claim email of %s: %w", identityID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if err := revokeAll(ctx, tx, identityID, now); err != nil {
		return false, fmt.Errorf("claim email of %s: %w", identityID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE directory.password_resets SET used_at = $2 WHERE identity_id = $1 AND used_at IS NULL`,
		identityID, now); err != nil {
		return false, fmt.Errorf("claim email of %s: spend password resets: %w", identityID, err)
	}
	return true, nil
}
