-- +goose Up
-- A claim on a domain no longer holds the name against every other organization: several may hold pending
-- claims on one name, the first to prove control through DNS wins, and from then on the verified claim is the
-- only one (docs/2026-12-03-domain-claims.md). A pending claim lapses at expires_at; a verified one never does.
ALTER TABLE directory.domains ADD COLUMN expires_at timestamptz;
UPDATE directory.domains SET expires_at = created_at + interval '7 days';
ALTER TABLE directory.domains ALTER COLUMN expires_at SET NOT NULL;
-- The application sets expires_at from DOMAIN_CLAIM_TTL; rows written otherwise (tools, tests) get its default.
ALTER TABLE directory.domains ALTER COLUMN expires_at SET DEFAULT now() + interval '7 days';

ALTER TABLE directory.domains DROP CONSTRAINT domains_domain_key;
-- One claim per organization and name; it also serves every per-organization lookup.
ALTER TABLE directory.domains ADD CONSTRAINT domains_tenant_domain UNIQUE (tenant_id, domain);
-- At most one organization has verified a name.
CREATE UNIQUE INDEX domains_verified ON directory.domains (domain) WHERE verified_at IS NOT NULL;
DROP INDEX directory.domains_tenant;

-- +goose Down
-- The old rule admits one claim per name: keep the verified claim, else the oldest pending one.
DELETE FROM directory.domains d WHERE EXISTS (SELECT 1 FROM directory.domains o
    WHERE o.domain = d.domain AND o.id <> d.id AND (o.verified_at IS NOT NULL OR (d.verified_at IS NULL AND o.id < d.id)));
CREATE INDEX domains_tenant ON directory.domains (tenant_id);
DROP INDEX directory.domains_verified;
ALTER TABLE directory.domains DROP CONSTRAINT domains_tenant_domain;
ALTER TABLE directory.domains ADD CONSTRAINT domains_domain_key UNIQUE (domain);
ALTER TABLE directory.domains DROP COLUMN expires_at;
