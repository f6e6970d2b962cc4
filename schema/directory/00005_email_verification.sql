-- +goose Up
-- When the identity proved it owns its email (a verification link, an invitation accepted through its mailbox,
-- or an SSO provider of an organization that verified the email's domain). NULL means unproven: an unverified
-- identity is never linked to an SSO login or an invitation without that proof (docs/2026-12-03-email-ownership.md).
ALTER TABLE directory.identities ADD COLUMN email_verified_at timestamptz;

-- +goose Down
ALTER TABLE directory.identities DROP COLUMN email_verified_at;
