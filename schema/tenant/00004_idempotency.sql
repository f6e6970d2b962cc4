-- +goose Up
-- Idempotency-Key records for an organization's creating POSTs: the first answer is kept for 24 hours and
-- replayed to a retry with the same key. status is NULL while the first request is still running.
CREATE TABLE tenant.idempotency_keys (
    tenant_id   uuid NOT NULL,
    key         text NOT NULL,
    fingerprint bytea NOT NULL,
    status      integer,
    headers     jsonb NOT NULL DEFAULT '{}',
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant.idempotency_keys TO hyperscale_app;
ALTER TABLE tenant.idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.idempotency_keys
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.idempotency_keys', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tenant.idempotency_keys;
