-- +goose Up
-- Project members hold a project role (owner, admin, member) on top of their organization role. The
-- identity lives in the directory, so identity_id has no foreign key (the stores are never joined); the
-- application checks the organization membership before it writes a row here.
CREATE TABLE tenant.project_members (
    tenant_id   uuid NOT NULL,
    project_id  uuid NOT NULL,
    identity_id uuid NOT NULL,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, project_id, identity_id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES tenant.projects (tenant_id, id)
);
-- "Projects where X is a member" (GET /v1/projects?member=) reads this one; the primary key serves a
-- project's member list, its owner count and access checks.
CREATE INDEX project_members_identity ON tenant.project_members (tenant_id, identity_id, project_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant.project_members TO hyperscale_app;
ALTER TABLE tenant.project_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.project_members
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Project list orderings: each is a keyset walk on (sort key, id) within the tenant's live projects, so
-- every page is an index range whatever its depth. "created" walks projects_live (00002) by id (UUIDv7).
--
-- Under row-level security PostgreSQL turns a query's condition into an index condition only when every
-- function in it is LEAKPROOF (the policy must filter rows before any function that could reveal them runs),
-- and only superusers can mark functions so. lower() is not leakproof, so an index on lower(name) could order
-- a walk but never start it at a cursor; the case-folded name is therefore a stored column, compared with the
-- leakproof text operators. (docs/2026-11-26-indexes-under-row-level-security.md)
ALTER TABLE tenant.projects ADD COLUMN name_key text GENERATED ALWAYS AS (lower(name)) STORED;
CREATE INDEX projects_live_name ON tenant.projects (tenant_id, name_key, id) WHERE deleted_at IS NULL;
CREATE INDEX projects_live_updated ON tenant.projects (tenant_id, updated_at, id) WHERE deleted_at IS NULL;
-- Archived projects are few; archived=true lists read this small index and sort what it finds.
CREATE INDEX projects_archived ON tenant.projects (tenant_id, id) WHERE deleted_at IS NULL AND archived_at IS NOT NULL;

-- Search by name (q=) is a case-insensitive substring match. A trigram GIN index cannot serve it for the
-- application role: ILIKE and the trigram operators are not leakproof, so under row-level security the index
-- is never used for them (checked on PostgreSQL 15). Instead each project keeps every suffix of every word of
-- its lower-cased name here; "the name contains q" narrows to "some suffix starts with q's longest word", a
-- btree range in C collation (leakproof comparisons), and ILIKE rechecks the few candidates. The application
-- writes these rows in the project's transaction, with INSERT ... VALUES.
CREATE TABLE tenant.project_name_suffixes (
    tenant_id  uuid NOT NULL,
    suffix     text COLLATE "C" NOT NULL,
    project_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, suffix, project_id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES tenant.projects (tenant_id, id)
);
-- Renaming a project replaces its rows.
CREATE INDEX project_name_suffixes_project ON tenant.project_name_suffixes (tenant_id, project_id);
GRANT SELECT, INSERT, DELETE ON tenant.project_name_suffixes TO hyperscale_app;
ALTER TABLE tenant.project_name_suffixes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant.project_name_suffixes
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
-- Projects that exist already (migrations run as the owner, so INSERT ... SELECT is allowed here).
INSERT INTO tenant.project_name_suffixes (tenant_id, suffix, project_id)
SELECT DISTINCT p.tenant_id, substr(w.word, i), p.id
FROM tenant.projects p,
     regexp_split_to_table(lower(p.name), '[^[:alnum:]]+') AS w(word),
     generate_series(1, char_length(w.word)) AS i
WHERE w.word <> '';

-- The activity trail is read newest first by (created_at, id), filtered by entity, entity type, actor and a
-- time range; each filter has an index that ends in (created_at, id), so the filter, the range and the
-- keyset cursor are all index conditions. Ascending columns scan backwards for "newest first".
CREATE INDEX activity_time ON tenant.activity (tenant_id, created_at, id);
CREATE INDEX activity_entity_time ON tenant.activity (tenant_id, entity_id, created_at, id);
CREATE INDEX activity_type_time ON tenant.activity (tenant_id, entity_type, created_at, id);
CREATE INDEX activity_actor_time ON tenant.activity (tenant_id, actor_id, created_at, id);

-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('tenant.project_members', 'tenant_id', colocate_with => 'tenant.projects');
        PERFORM create_distributed_table('tenant.project_name_suffixes', 'tenant_id', colocate_with => 'tenant.projects');
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX tenant.activity_actor_time;
DROP INDEX tenant.activity_type_time;
DROP INDEX tenant.activity_entity_time;
DROP INDEX tenant.activity_time;
DROP TABLE tenant.project_name_suffixes;
DROP INDEX tenant.projects_archived;
DROP INDEX tenant.projects_live_updated;
DROP INDEX tenant.projects_live_name;
ALTER TABLE tenant.projects DROP COLUMN name_key;
DROP TABLE tenant.project_members;
