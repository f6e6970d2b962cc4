-- +goose Up
-- The tenant store may live on another cluster (Citus) than the directory, so it ensures the role itself.
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

-- Citus forwards SET LOCAL app.tenant_id to its workers only when this is on (DESIGN.md rule 2).
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        EXECUTE 'ALTER ROLE hyperscale_app SET citus.propagate_set_commands = ''local''';
    END IF;
END
$$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA tenant TO hyperscale_app;

-- +goose Down
REVOKE USAGE ON SCHEMA tenant FROM hyperscale_app;
