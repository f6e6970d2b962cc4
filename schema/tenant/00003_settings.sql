-- +goose Up
-- One row per tenant: feature flags, limits, preferences and the SSO connection, each a JSON object whose
-- shape the application validates (shared/tenancy, shared/sso).
CREATE TABLE tenant.settings (
    tenant_id   uuid NOT NULL,
    features    jsonb NOT NULL DEFAULT '{}',
    limits      jsonb NOT NULL DEFAULT '{}',
    preferences jsonb NOT NULL DEFAULT '{}',
    sso         jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);
GRANT SELECT, INSERT, UPDATE ON tenant.settings TO hyperscale_app;
ALTER TABLE tenant.settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.settings
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.settings', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tenant.settings;
