-- +goose Up
-- Email-verification links: single use, stored hashed, short-lived, bound to the address they were sent to
-- (docs/2026-12-03-email-ownership.md).
CREATE TABLE directory.email_verifications (
    token_hash  bytea PRIMARY KEY,
    identity_id uuid NOT NULL REFERENCES directory.identities (id),
    email       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX email_verifications_identity ON directory.email_verifications (identity_id);

-- One TOTP authenticator per identity (docs/2026-12-03-totp.md). secret is the AES-256-GCM sealed shared
-- secret (nonce, then ciphertext); confirmed_at is NULL while enrolment waits for its first code; last_step is
-- the newest accepted time step, so a code cannot be accepted twice.
CREATE TABLE directory.mfa_totp (
    identity_id  uuid PRIMARY KEY REFERENCES directory.identities (id),
    secret       bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    last_step    bigint NOT NULL DEFAULT 0
);

-- Recovery codes: each works once; only their SHA-256 is stored.
CREATE TABLE directory.mfa_recovery_codes (
    identity_id uuid NOT NULL REFERENCES directory.identities (id),
    code_hash   bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    PRIMARY KEY (identity_id, code_hash)
);

-- The second step of a login: a password was right, a code is still owed. The token is opaque and stored hashed.
CREATE TABLE directory.mfa_challenges (
    token_hash  bytea PRIMARY KEY,
    identity_id uuid NOT NULL REFERENCES directory.identities (id),
    tenant_id   uuid NOT NULL REFERENCES directory.tenants (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX mfa_challenges_identity ON directory.mfa_challenges (identity_id);

GRANT SELECT, INSERT, UPDATE ON directory.email_verifications, directory.mfa_challenges TO hyperscale_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON directory.mfa_totp, directory.mfa_recovery_codes TO hyperscale_app;

-- +goose Down
DROP TABLE directory.mfa_challenges;
DROP TABLE directory.mfa_recovery_codes;
DROP TABLE directory.mfa_totp;
DROP TABLE directory.email_verifications;
