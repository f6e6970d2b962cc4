-- +goose Up
-- Full-text search over a tenant's projects, tasks and comments, and the indexes of the dashboard.
--
-- A GIN index on a tsvector cannot serve the application: under row-level security PostgreSQL makes a
-- condition an index condition only when its operator is LEAKPROOF, and @@ (ts_match_vq) is not, so the
-- index would be ignored and every search would read all of the tenant's rows
-- (docs/2026-11-26-rls-and-index-conditions.md). Instead the application keeps an inverted index here: one
-- row per (lexeme, searchable thing), the lexemes being exactly those of to_tsvector('english', ...), written
-- in the transaction that creates or changes the thing (INSERT ... VALUES). A search looks each query lexeme
-- up with btree equality (postings come in doc_id order, so words intersect by merge joins), and the last
-- word of the query as a prefix by a range (term >= $lo AND term < $hi): text comparisons with values in the
-- C collation, all leakproof. (docs/2026-11-26-search.md)
--
-- kind: 1 project, 2 task, 3 comment. weight: 2 when the lexeme is in the title (a project's name, a task's
-- title) plus 1 when it is in the body (description, comment body), so 1 to 3. Rows of deleted tasks and
-- comments are removed with them; a deleted project keeps its rows (it can be restored), and searches check
-- that what they found, its task and its project are live.
CREATE TABLE tenant.search_terms (
    tenant_id uuid NOT NULL,
    term      text COLLATE "C" NOT NULL,
    doc_id    uuid NOT NULL,
    kind      smallint NOT NULL CHECK (kind BETWEEN 1 AND 3),
    weight    smallint NOT NULL CHECK (weight BETWEEN 1 AND 3),
    -- kind and weight ride in the key's leaf pages, so a search's postings are read by index-only scans.
    -- There is no (tenant_id, doc_id) index: a change removes a thing's rows by recomputing its old lexemes
    -- (term = ANY(...)), which the primary key serves, and the table stays a single index.
    PRIMARY KEY (tenant_id, term, doc_id) INCLUDE (kind, weight)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant.search_terms TO hyperscale_app;
ALTER TABLE tenant.search_terms ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.search_terms
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Rows for what exists already. Migrations run as the owner, so INSERT ... SELECT is allowed here; bulk loads
-- (scripts/seed, the tenant mover) run the same three statements after loading.
INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
SELECT p.tenant_id, l.lexeme, p.id, 1,
       (CASE WHEN 'A' = ANY (l.weights) THEN 2 ELSE 0 END) + (CASE WHEN 'D' = ANY (l.weights) THEN 1 ELSE 0 END)
FROM tenant.projects p,
     unnest(setweight(to_tsvector('english', p.name), 'A') || to_tsvector('english', p.description)) AS l;
INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
SELECT t.tenant_id, l.lexeme, t.id, 2,
       (CASE WHEN 'A' = ANY (l.weights) THEN 2 ELSE 0 END) + (CASE WHEN 'D' = ANY (l.weights) THEN 1 ELSE 0 END)
FROM tenant.tasks t,
     unnest(setweight(to_tsvector('english', t.title), 'A') || to_tsvector('english', t.description)) AS l
WHERE t.deleted_at IS NULL;
INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
SELECT c.tenant_id, l.lexeme, c.id, 3, 1
FROM tenant.comments c, unnest(to_tsvector('english', c.body)) AS l
WHERE c.deleted_at IS NULL;

-- The dashboard's count of tasks by status reads this instead of the tasks: live tasks by project and status,
-- moved by the task store in the transaction of each create, status change and delete (INSERT ... ON CONFLICT
-- DO UPDATE, rows in status order so that two changes never wait on each other in a cycle). Counting a large
-- tenant's tasks themselves reads every one of them (~100,000 index entries, tens of milliseconds); the
-- dashboard sums a few rows per project instead, leaving out deleted projects. The project dimension is what
-- lets a deleted project's tasks drop out (and come back with a restore) without touching these rows. No
-- foreign key to projects: bulk loads drop and rebuild the projects' keys, which a reference from a table
-- they do not load would block. No CHECK (tasks >= 0) either: a write must not fail on a counter that a
-- bulk load forgot to fill; the dashboard shows such a sum as 0.
CREATE TABLE tenant.task_counts (
    tenant_id  uuid NOT NULL,
    project_id uuid NOT NULL,
    status     text NOT NULL,
    tasks      bigint NOT NULL,
    PRIMARY KEY (tenant_id, project_id, status)
);
GRANT SELECT, INSERT, UPDATE ON tenant.task_counts TO hyperscale_app;
ALTER TABLE tenant.task_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.task_counts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
INSERT INTO tenant.task_counts (tenant_id, project_id, status, tasks)
SELECT tenant_id, project_id, status, count(*) FROM tenant.tasks WHERE deleted_at IS NULL GROUP BY tenant_id, project_id, status;

-- The dashboard's other reads, each an index range that leads with tenant_id:
-- active projects (live, not archived, status active) are counted, and the latest changed listed, from here;
CREATE INDEX projects_active ON tenant.projects (tenant_id, updated_at, id)
    WHERE deleted_at IS NULL AND archived_at IS NULL AND status = 'active';
-- completions per week walk the tenant's completed tasks by completed_at over twelve weeks;
CREATE INDEX tasks_completed ON tenant.tasks (tenant_id, completed_at) INCLUDE (project_id)
    WHERE deleted_at IS NULL AND completed_at IS NOT NULL;
-- overdue tasks are open tasks by due date (due_key: undated tasks sort last), counted and listed from here.
-- "Open" is completed_at IS NULL (the task store sets completed_at exactly while a task is done) rather than
-- status <> 'done': a task list filtered by status implies the latter, and the planner would take this index
-- for a project's list ordered by due date, walking every project's tasks. status rides along so that the
-- dashboard still checks it, in the index.
CREATE INDEX tasks_open_due ON tenant.tasks (tenant_id, due_key, id) INCLUDE (project_id, status)
    WHERE deleted_at IS NULL AND completed_at IS NULL;
-- and every figure leaves out the tasks of deleted projects, which are few: this finds them.
CREATE INDEX projects_deleted ON tenant.projects (tenant_id, id) WHERE deleted_at IS NOT NULL;

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.search_terms', 'tenant_id', colocate_with => 'tenant.projects');
        PERFORM create_distributed_table('tenant.task_counts', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX tenant.projects_deleted;
DROP INDEX tenant.tasks_open_due;
DROP INDEX tenant.tasks_completed;
DROP INDEX tenant.projects_active;
DROP TABLE tenant.task_counts;
DROP TABLE tenant.search_terms;
