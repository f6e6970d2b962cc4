-- +goose Up
-- Access tokens name their session (the refresh-token family) and the version of the membership they were
-- minted for; every authenticated request checks both (docs/2026-12-03-revocation.md). A membership's version
-- is drawn from one sequence, on insert and on every role change, so a membership removed and created again
-- never repeats a version an old token carries.
CREATE SEQUENCE directory.membership_versions;
ALTER TABLE directory.memberships ADD COLUMN version bigint NOT NULL DEFAULT nextval('directory.membership_versions');
ALTER SEQUENCE directory.membership_versions OWNED BY directory.memberships.version;

-- The trigger, not each writer, bumps the version, so no path that changes a role can forget to.
-- +goose StatementBegin
CREATE FUNCTION directory.bump_membership_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := nextval('directory.membership_versions');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER memberships_version BEFORE UPDATE OF role ON directory.memberships
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION directory.bump_membership_version();

-- What the session list shows: when the session was last refreshed, and from which client (as last seen).
ALTER TABLE directory.refresh_token_families
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN user_agent text NOT NULL DEFAULT '' CONSTRAINT refresh_token_families_user_agent_check CHECK (length(user_agent) <= 512),
    ADD COLUMN client_address text NOT NULL DEFAULT '' CONSTRAINT refresh_token_families_client_address_check CHECK (length(client_address) <= 64);

-- The successor of a spent refresh token, sealed (AES-256-GCM, nonce first) under a key derived from the spent
-- token itself, so that a repeat within the reuse interval gets the same successor and nobody without the spent
-- token can read it (docs/2026-12-03-refresh-reuse-window.md).
ALTER TABLE directory.refresh_tokens ADD COLUMN successor bytea;

GRANT USAGE ON SEQUENCE directory.membership_versions TO hyperscale_app;

-- +goose Down
ALTER TABLE directory.refresh_tokens DROP COLUMN successor;
ALTER TABLE directory.refresh_token_families DROP COLUMN client_address, DROP COLUMN user_agent, DROP COLUMN last_used_at;
DROP TRIGGER memberships_version ON directory.memberships;
DROP FUNCTION directory.bump_membership_version();
ALTER TABLE directory.memberships DROP COLUMN version;
