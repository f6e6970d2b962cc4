-- +goose Up
-- Every table here is tenant-owned: tenant_id leads the primary key, every unique constraint and every
-- foreign key (DESIGN.md rule 1), and row-level security keys on app.tenant_id, set with SET LOCAL by the
-- data library's tenant entry point. NULLIF makes a missing or empty context match nothing instead of
-- failing the uuid cast (rule 3).
CREATE TABLE tenant.projects (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- Lists walk live projects newest first by id (UUIDv7, so id order is creation order).
CREATE INDEX projects_live ON tenant.projects (tenant_id, id DESC) WHERE deleted_at IS NULL;

-- The activity trail is append-only for the application: it may insert and read, never change or remove.
CREATE TABLE tenant.activity (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    actor_id    uuid,
    entity_type text NOT NULL,
    entity_id   uuid NOT NULL,
    action      text NOT NULL,
    changes     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX activity_entity ON tenant.activity (tenant_id, entity_type, entity_id, id DESC);

-- Events written in the change's transaction and published after commit; the sweeper republishes rows whose
-- published_at stayed empty.
CREATE TABLE tenant.outbox (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL,
    type         text NOT NULL,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_unpublished ON tenant.outbox (tenant_id, id) WHERE published_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON tenant.projects TO hyperscale_app;
GRANT SELECT, INSERT ON tenant.activity TO hyperscale_app;
GRANT SELECT, INSERT ON tenant.outbox TO hyperscale_app;
GRANT UPDATE (published_at) ON tenant.outbox TO hyperscale_app;

ALTER TABLE tenant.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant.activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant.outbox ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tenant.projects
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON tenant.activity
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON tenant.outbox
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- On Citus every tenant table is distributed by tenant_id and colocated, so a tenant's rows share a shard
-- and each query that names tenant_id is routed to one worker.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.projects', 'tenant_id');
        PERFORM create_distributed_table('tenant.activity', 'tenant_id', colocate_with => 'tenant.projects');
        PERFORM create_distributed_table('tenant.outbox', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tenant.outbox;
DROP TABLE tenant.activity;
DROP TABLE tenant.projects;
