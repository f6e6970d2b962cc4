package pubsub

import (
	"time"

	"github.com/google/uuid"
)

// PasswordResetRequested is the payload of auth.password_reset_requested: someone asked to reset the password
// of an identity, and the notifier emails Token (as a link) to Email. The event is the identity's, not an
// organization's: it goes to the directory outbox and its subject is IdentityID.
//
// Token is the raw single-use reset token; only its SHA-256 is stored beside the identity, so the outbox row
// is the one place it rests until the event is published. It expires at ExpiresAt.
type PasswordResetRequested EmailedToken

// EmailVerificationRequested is the payload of identity.email_verification_requested: an identity's email is
// not proven yet (it signed up, or asked for a new link), and the notifier emails Token (as a link) to Email.
// Like a password reset it goes to the directory outbox, with IdentityID as its subject.
//
// Token is the raw single-use verification token; only its SHA-256 is stored, so the outbox row is the one
// place it rests until the event is published. It expires at ExpiresAt.
type EmailVerificationRequested EmailedToken

// EmailedToken is what the events that email a single-use link to an identity carry: the notifier sends Token
// (as a link) to Email; it expires at ExpiresAt.
type EmailedToken struct {
	IdentityID uuid.UUID `json:"identity_id"`
	Email      string    `json:"email"`
	Token      string    `json:"token"`
	ExpiresAt  time.Time `json:"expires_at"`
}
