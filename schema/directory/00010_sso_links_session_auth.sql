-- +goose Up
-- A person as an organization's identity provider knows them: (issuer, subject) names one account at one
-- provider (OIDC Core §2: sub is unique within its issuer), so a later sign-in finds its identity by it even
-- when the provider's email for the person changed. The first sign-in through a connection creates the link,
-- by email and the organization's verified domains; tenant_id is that organization, kept for the audit trail.
-- (docs/2026-12-03-sso-links-and-switch.md)
CREATE TABLE directory.sso_links (
    issuer        text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2048),
    subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    identity_id   uuid NOT NULL REFERENCES directory.identities (id),
    tenant_id     uuid NOT NULL REFERENCES directory.tenants (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_links_identity ON directory.sso_links (identity_id);
GRANT SELECT, INSERT, UPDATE ON directory.sso_links TO hyperscale_app;

-- How the session was authenticated, as space-separated method names in the manner of RFC 8176 amr: "pwd",
-- "sso:<tenant id>" (through that organization's connection), "mfa". NULL for sessions opened before this
-- column, which meet no organization's requirement. A switch copies it to the new session.
ALTER TABLE directory.refresh_token_families ADD COLUMN amr text CONSTRAINT refresh_token_families_amr_check CHECK (length(amr) <= 200);

-- +goose Down
ALTER TABLE directory.refresh_token_families DROP COLUMN amr;
DROP TABLE directory.sso_links;
