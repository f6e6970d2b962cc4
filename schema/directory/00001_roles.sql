-- +goose Up
-- The application role owns nothing, cannot bypass row-level security and logs in only where a deployment
-- grants it LOGIN (Citus, dev) or grants it to an IAM database user (Cloud SQL). Roles are cluster-wide, so
-- the statement tolerates a role made by an earlier database on the same cluster.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hyperscale_app') THEN
        CREATE ROLE hyperscale_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA directory TO hyperscale_app;

-- +goose Down
REVOKE USAGE ON SCHEMA directory FROM hyperscale_app;
