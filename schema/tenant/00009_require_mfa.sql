-- +goose Up
-- The organization requires every member to have a second factor (docs/2026-12-03-totp.md). A column rather
-- than a key in features: every authenticated request of the organization reads it, through a cache.
ALTER TABLE tenant.settings ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE tenant.settings DROP COLUMN require_mfa;
