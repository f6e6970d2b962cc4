-- +goose Up
CREATE TABLE directory.tenants (
    id                 uuid PRIMARY KEY,
    slug               text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$'),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    plan               text NOT NULL DEFAULT 'free',
    -- placement names the data-plane backend holding this tenant's rows; the tenant mover changes it.
    placement          text NOT NULL DEFAULT 'default',
    stripe_customer_id text UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE directory.identities (
    id            uuid PRIMARY KEY,
    -- email is stored lower-cased so that one person is one identity however they type it.
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
    name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE directory.memberships (
    tenant_id   uuid NOT NULL REFERENCES directory.tenants (id),
    identity_id uuid NOT NULL REFERENCES directory.identities (id),
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, identity_id)
);
CREATE INDEX memberships_identity ON directory.memberships (identity_id);

-- A family is one login's chain of rotated refresh tokens; reuse of a spent token revokes the family.
CREATE TABLE directory.refresh_token_families (
    id          uuid PRIMARY KEY,
    identity_id uuid NOT NULL REFERENCES directory.identities (id),
    tenant_id   uuid NOT NULL REFERENCES directory.tenants (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX refresh_token_families_identity ON directory.refresh_token_families (identity_id);

CREATE TABLE directory.refresh_tokens (
    -- token_hash is SHA-256 of the opaque token; the token itself is never stored.
    token_hash bytea PRIMARY KEY,
    family_id  uuid NOT NULL REFERENCES directory.refresh_token_families (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_family ON directory.refresh_tokens (family_id);

GRANT SELECT, INSERT, UPDATE ON directory.tenants, directory.identities, directory.memberships,
    directory.refresh_token_families, directory.refresh_tokens TO hyperscale_app;
GRANT DELETE ON directory.memberships TO hyperscale_app;

-- +goose Down
DROP TABLE directory.refresh_tokens;
DROP TABLE directory.refresh_token_families;
DROP TABLE directory.memberships;
DROP TABLE directory.identities;
DROP TABLE directory.tenants;
