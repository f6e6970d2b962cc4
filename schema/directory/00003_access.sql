-- +goose Up
-- Invitations into an organization. The token is emailed and only its SHA-256 is stored.
CREATE TABLE directory.invitations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES directory.tenants (id),
    email       text NOT NULL CHECK (email = lower(email)),
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    token_hash  bytea NOT NULL UNIQUE,
    invited_by  uuid NOT NULL REFERENCES directory.identities (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz
);
-- One open invitation per email and organization; an accepted or revoked one no longer blocks a new one.
CREATE UNIQUE INDEX invitations_open ON directory.invitations (tenant_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- Password resets: single use, stored hashed, short-lived.
CREATE TABLE directory.password_resets (
    token_hash  bytea PRIMARY KEY,
    identity_id uuid NOT NULL REFERENCES directory.identities (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_identity ON directory.password_resets (identity_id);

-- Failed logins, by key ("email:<address>" or "ip:<address>"), so throttling holds across instances.
CREATE TABLE directory.login_failures (
    key       text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key ON directory.login_failures (key, failed_at);

-- Custom domains are unique across organizations, so they live in the directory.
CREATE TABLE directory.domains (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES directory.tenants (id),
    domain             text NOT NULL UNIQUE CHECK (domain = lower(domain)),
    verification_token text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    verified_at        timestamptz
);
CREATE INDEX domains_tenant ON directory.domains (tenant_id);

-- Platform events that belong to no tenant (password resets), published like the tenant outboxes.
CREATE TABLE directory.outbox (
    id           uuid PRIMARY KEY,
    type         text NOT NULL,
    subject      text NOT NULL,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX directory_outbox_unpublished ON directory.outbox (id) WHERE published_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON directory.invitations, directory.password_resets TO hyperscale_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON directory.domains TO hyperscale_app;
GRANT SELECT, INSERT, DELETE ON directory.login_failures TO hyperscale_app;
GRANT SELECT, INSERT ON directory.outbox TO hyperscale_app;
GRANT UPDATE (published_at) ON directory.outbox TO hyperscale_app;

-- +goose Down
DROP TABLE directory.outbox;
DROP TABLE directory.domains;
DROP TABLE directory.login_failures;
DROP TABLE directory.password_resets;
DROP TABLE directory.invitations;
