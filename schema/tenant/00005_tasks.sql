-- +goose Up
-- Projects gain a status and an archive flag; tasks belong to a project of the same tenant.
ALTER TABLE tenant.projects
    ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_hold', 'completed')),
    ADD COLUMN archived_at timestamptz;

CREATE TABLE tenant.tasks (
    tenant_id    uuid NOT NULL,
    id           uuid NOT NULL,
    project_id   uuid NOT NULL,
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    status       text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'blocked', 'done')),
    -- 0 low, 1 medium, 2 high, 3 urgent: a number so that ordering by priority is an index order.
    priority     smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3),
    assignee_id  uuid,
    due_date     date,
    labels       text[] NOT NULL DEFAULT '{}' CHECK (cardinality(labels) <= 20),
    -- A board column's order: new positions go between neighbours, so a move rewrites one row.
    position     double precision NOT NULL DEFAULT 0,
    -- version increments on every write; the ETag is derived from it for If-Match.
    version      integer NOT NULL DEFAULT 1,
    created_by   uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    deleted_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES tenant.projects (tenant_id, id)
);
CREATE INDEX tasks_project ON tenant.tasks (tenant_id, project_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX tasks_assignee ON tenant.tasks (tenant_id, assignee_id, id DESC) WHERE deleted_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON tenant.tasks TO hyperscale_app;
ALTER TABLE tenant.tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.tasks
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.tasks', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tenant.tasks;
ALTER TABLE tenant.projects DROP COLUMN archived_at, DROP COLUMN status;
