// Package idempotency honours the Idempotency-Key header on creating POSTs: the first answer to a key is
// stored for 24 hours and replayed, byte for byte, to every retry that sends the same key with the same
// request; the same key with a different request is refused.
//
// Keys of a signed-in caller are kept in the organization's own store, scoped to the caller; keys of requests
// made before sign-in (sign-up, registration) are kept in the directory, scoped to the route.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/jackc/pgx/v5"
)

// Refusals of a request's Idempotency-Key.
var (
	// ErrInvalidKey means the header is longer than 255 characters or not printable ASCII.
	ErrInvalidKey = fault.New(fault.Malformed, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters")
	// ErrKeyReused means the key was used before with another method, path or body.
	ErrKeyReused = fault.New(fault.Invalid, "idempotency_key_reused", "this Idempotency-Key was used with a different request")
	// ErrInProgress means the first request with the key is still running; it is answered with Retry-After.
	ErrInProgress = fault.New(fault.Conflict, "idempotency_in_progress", "a request with this Idempotency-Key is still running; retry shortly")
)

// Header is the request header clients send the key in.
const Header = "Idempotency-Key"

// Lifetimes: a key is remembered for Retention; a first request that never finished (its instance died)
// stops blocking retries after Abandoned.
const (
	Retention = 24 * time.Hour
	Abandoned = time.Minute
)

// replayedHeaders are the response headers stored and replayed with the body.
var replayedHeaders = []string{"Cache-Control", "Content-Type", "ETag", "Location"}

// Keys stores and replays answers.
type Keys struct {
	dir     *db.Directory
	tenants *db.Tenants
}

// New returns the key store over both stores' handles.
func New(dir *db.Directory, tenants *db.Tenants) *Keys {
	return &Keys{dir: dir, tenants: tenants}
}

// record is a stored key.
type record struct {
	fingerprint []byte
	status      *int
	headers     map[string]string
	body        []byte
	createdAt   time.Time
}

// scope is where one request's key lives: a transaction runner and the SQL naming its scope.
type scope struct {
	run   func(ctx context.Context, fn func(pgx.Tx) error) error
	table string
	col   string
	value any
}

func (k *Keys) scopeOf(r *http.Request) (scope, string) {
	key := r.Header.Get(Header)
	if p, ok := httpx.PrincipalFrom(r.Context()); ok {
		return scope{
			run:   func(ctx context.Context, fn func(pgx.Tx) error) error { return k.tenants.InTenant(ctx, p.TenantID, fn) },
			table: "tenant.idempotency_keys", col: "tenant_id", value: p.TenantID,
		}, p.IdentityID.String() + ":" + key
	}
	return scope{
		run: func(ctx context.Context, fn func(pgx.Tx) error) error {
			return k.dir.Platform(ctx, db.EntryIdempotency, fn)
		},
		table: "directory.idempotency_keys", col: "scope", value: r.Method + " " + r.URL.Path,
	}, key
}

// Handler wraps next, a creating POST, so that a request with an Idempotency-Key runs it at most once per key.
// It must run inside authentication (when the route has it) so signed-in keys are scoped to their caller.
func (k *Keys) Handler(next http.Handler) http.Handler {
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get(Header)
		if key == "" {
			next.ServeHTTP(w, r)
			return nil
		}
		if len(key) > 255 || !printable(key) {
			return ErrInvalidKey
		}
		body, err := httpx.ReadBody(w, r)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.RequestURI()+"\n"), body...))
		sc, scopedKey := k.scopeOf(r)

		prev, err := k.claim(r.Context(), sc, scopedKey, sum[:])
		if err != nil {
			return err
		}
		if prev != nil {
			return replay(w, prev, sum[:])
		}
		rec := &capture{header: http.Header{}}
		func() {
			// A panic below must not leave the key claimed for the Abandoned minute.
			defer func() {
				if v := recover(); v != nil {
					_ = k.release(context.WithoutCancel(r.Context()), sc, scopedKey)
					panic(v)
				}
			}()
			next.ServeHTTP(rec, r)
		}()
		if rec.status >= 500 {
			// A server failure is not an answer worth keeping: the retry should run again.
			err = k.release(context.WithoutCancel(r.Context()), sc, scopedKey)
		} else {
			err = k.finish(context.WithoutCancel(r.Context()), sc, scopedKey, rec)
		}
		if err != nil {
			httpx.Logger(r.Context()).ErrorContext(r.Context(), "idempotency record not kept", "error", err.Error())
		}
		rec.copyTo(w)
		return nil
	})
}

func replay(w http.ResponseWriter, prev *record, fingerprint []byte) error {
	switch {
	case !bytes.Equal(prev.fingerprint, fingerprint):
		return ErrKeyReused
	case prev.status == nil:
		return ErrInProgress.WithRetryAfter(time.Second)
	}
	for k, v := range prev.headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(*prev.status)
	_, _ = w.Write(prev.body)
	return nil
}

// claim inserts the key as in progress, or returns the record that holds it. A record past Retention, or an
// in-progress one past Abandoned, is taken over.
func (k *Keys) claim(ctx context.Context, sc scope, key string, fingerprint []byte) (*record, error) {
	var prev *record
	err := sc.run(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO `+sc.table+` (`+sc.col+`, key, fingerprint) VALUES ($1, $2, $3)
			ON CONFLICT (`+sc.col+`, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = NULL, headers = '{}', body = NULL, created_at = now()
			WHERE `+sc.table+`.created_at < now() - make_interval(secs => $4)
			   OR (`+sc.table+`.status IS NULL AND `+sc.table+`.created_at < now() - make_interval(secs => $5))`,
			sc.value, key, fingerprint, Retention.Seconds(), Abandoned.Seconds())
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		var (
			rec     record
			headers []byte
		)
		if err := tx.QueryRow(ctx, `SELECT fingerprint, status, headers, body, created_at FROM `+sc.table+`
			WHERE `+sc.col+` = $1 AND key = $2`, sc.value, key).Scan(&rec.fingerprint, &rec.status, &headers, &rec.body, &rec.createdAt); err != nil {
			return err
		}
		if err := json.Unmarshal(headers, &rec.headers); err != nil {
			return fmt.Errorf("decode stored headers: %w", err)
		}
		prev = &rec
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	return prev, nil
}

func (k *Keys) finish(ctx context.Context, sc scope, key string, rec *capture) error {
	headers := map[string]string{}
	for _, h := range replayedHeaders {
		if v := rec.header.Get(h); v != "" {
			headers[h] = v
		}
	}
	enc, err := json.Marshal(headers)
	if err != nil {
		return err
	}
	return sc.run(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE `+sc.table+` SET status = $3, headers = $4, body = $5 WHERE `+sc.col+` = $1 AND key = $2`,
			sc.value, key, rec.status, enc, rec.body.Bytes())
		return err
	})
}

func (k *Keys) release(ctx context.Context, sc scope, key string) error {
	err := sc.run(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM `+sc.table+` WHERE `+sc.col+` = $1 AND key = $2 AND status IS NULL`, sc.value, key)
		return err
	})
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	return err
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// capture holds the handler's answer so it can be stored before it is sent.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

func (c *capture) copyTo(w http.ResponseWriter) {
	for k, vs := range c.header {
		w.Header()[k] = vs
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}
