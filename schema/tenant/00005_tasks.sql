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
    -- The due-date ordering's key: the date, or 'infinity' for none, so undated tasks sort last and a keyset
    -- comparison never meets a NULL. A column rather than an expression index because under row-level
    -- security only leakproof operators on plain columns become index conditions, and COALESCE is not one.
    due_key      date NOT NULL GENERATED ALWAYS AS (coalesce(due_date, 'infinity'::date)) STORED,
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
-- A project's task list orders by one of five keys, each ending in id so that a keyset cursor (key, id) is
-- total; every ordering has an index on (tenant_id, project_id, key, id) over live tasks, read forwards or
-- backwards. Status filters ride on the ordering's index; an assignee has an index of its own for the planner
-- to pick when the filter is rare; a due range rides on tasks_project_due.
-- Created order is id order (UUIDv7).
CREATE INDEX tasks_project ON tenant.tasks (tenant_id, project_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX tasks_project_updated ON tenant.tasks (tenant_id, project_id, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_project_due ON tenant.tasks (tenant_id, project_id, due_key, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_project_priority ON tenant.tasks (tenant_id, project_id, priority, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_project_position ON tenant.tasks (tenant_id, project_id, position, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_project_assignee ON tenant.tasks (tenant_id, project_id, assignee_id, id) WHERE deleted_at IS NULL;
-- One member's tasks across projects (their own work list, digests).
CREATE INDEX tasks_assignee ON tenant.tasks (tenant_id, assignee_id, id DESC) WHERE deleted_at IS NULL;

-- The label filter's index. A GIN index on tasks.labels cannot serve it: under row-level security, @> (not
-- leakproof) is never made an index condition, so the filter would walk every task of the project. One row per
-- (task, label), written with the task in its transaction, turns it into a btree lookup whose key order is
-- also created order. tasks.labels stays the source the API reads.
CREATE TABLE tenant.task_labels (
    tenant_id  uuid NOT NULL,
    project_id uuid NOT NULL,
    label      text NOT NULL,
    task_id    uuid NOT NULL,
    PRIMARY KEY (tenant_id, project_id, label, task_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tenant.tasks (tenant_id, id)
);

GRANT SELECT, INSERT, UPDATE ON tenant.tasks TO hyperscale_app;
ALTER TABLE tenant.tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.tasks
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, DELETE ON tenant.task_labels TO hyperscale_app;
ALTER TABLE tenant.task_labels ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.task_labels
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.tasks', 'tenant_id', colocate_with => 'tenant.projects');
        PERFORM create_distributed_table('tenant.task_labels', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tenant.task_labels;
DROP TABLE tenant.tasks;
ALTER TABLE tenant.projects DROP COLUMN archived_at, DROP COLUMN status;
