-- +goose Up
-- Comments and attachments hang on a task of the same tenant; both are soft-deleted, and both are hidden
-- while their task or its project is deleted (the queries join to check, so a restore brings them back).
CREATE TABLE tenant.comments (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL,
    task_id    uuid NOT NULL,
    author_id  uuid NOT NULL,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tenant.tasks (tenant_id, id)
);
-- A task's comments are read oldest first (UUIDv7 ids are in creation order), as a conversation is.
CREATE INDEX comments_task ON tenant.comments (tenant_id, task_id, id) WHERE deleted_at IS NULL;

-- An attachment is created pending, with a signed upload URL; completing it checks the object and records
-- its real size and content type. The object name is derived from the row's own keys, and the check keeps
-- every object of a tenant under tenants/<tenant_id>/, whatever the application does.
CREATE TABLE tenant.attachments (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL,
    task_id      uuid NOT NULL,
    filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type text NOT NULL CHECK (length(content_type) BETWEEN 3 AND 255),
    -- size is the declared size while pending and the object's actual size once complete.
    size         bigint NOT NULL CHECK (size >= 0),
    object_name  text NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'complete')),
    created_by   uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    deleted_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tenant.tasks (tenant_id, id),
    CHECK (object_name = 'tenants/' || tenant_id::text || '/tasks/' || task_id::text || '/' || id::text)
);
CREATE INDEX attachments_task ON tenant.attachments (tenant_id, task_id, id DESC) WHERE deleted_at IS NULL;

-- Usage counted for billing, one row per tenant, metric and UTC day. A gauge such as storage_bytes carries
-- its value forward: the first change of a day starts from the latest earlier row, so the row of day D holds
-- the value at the end of D, and the current value is the newest row.
CREATE TABLE tenant.usage_counters (
    tenant_id  uuid NOT NULL,
    metric     text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
    day        date NOT NULL,
    value      bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, metric, day)
);

GRANT SELECT, INSERT, UPDATE ON tenant.comments, tenant.attachments, tenant.usage_counters TO hyperscale_app;
ALTER TABLE tenant.comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant.attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant.usage_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.comments
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON tenant.attachments
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON tenant.usage_counters
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.comments', 'tenant_id', colocate_with => 'tenant.projects');
        PERFORM create_distributed_table('tenant.attachments', 'tenant_id', colocate_with => 'tenant.projects');
        PERFORM create_distributed_table('tenant.usage_counters', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tenant.usage_counters;
DROP TABLE tenant.attachments;
DROP TABLE tenant.comments;
