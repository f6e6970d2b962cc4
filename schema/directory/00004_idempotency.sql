-- +goose Up
-- Idempotency-Key records for creating POSTs made before anyone is signed in (sign-up, registration), scoped by
-- route, since there is no organization to scope them by.
CREATE TABLE directory.idempotency_keys (
    scope       text NOT NULL,
    key         text NOT NULL,
    fingerprint bytea NOT NULL,
    status      integer,
    headers     jsonb NOT NULL DEFAULT '{}',
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON directory.idempotency_keys TO hyperscale_app;

-- +goose Down
DROP TABLE directory.idempotency_keys;
