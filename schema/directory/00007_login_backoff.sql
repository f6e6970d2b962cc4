-- +goose Up
-- Failed logins per account and client address, for the growing delays that replace locking an account for
-- everyone (docs/2026-12-03-throttling.md): one row per pair, counted up in place, forgotten after a quiet
-- period (swept by last_failed_at) or when the account proves itself from that address.
CREATE TABLE directory.login_backoff (
    account        text NOT NULL,
    client         text NOT NULL,
    failures       integer NOT NULL CONSTRAINT login_backoff_failures_check CHECK (failures > 0),
    last_failed_at timestamptz NOT NULL,
    CONSTRAINT login_backoff_pkey PRIMARY KEY (account, client)
);
CREATE INDEX login_backoff_last_failed_at ON directory.login_backoff (last_failed_at);

-- The sweep of keys nobody uses any more reads failures by age alone.
CREATE INDEX login_failures_failed_at ON directory.login_failures (failed_at);

-- Per-email login failures are no longer counted (the backoff above replaces them); their rows would only wait
-- for the sweep.
DELETE FROM directory.login_failures WHERE key LIKE 'email:%';

GRANT SELECT, INSERT, UPDATE, DELETE ON directory.login_backoff TO hyperscale_app;

-- +goose Down
DROP INDEX directory.login_failures_failed_at;
DROP TABLE directory.login_backoff;
