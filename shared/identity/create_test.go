package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestFindOrCreateConcurrentEmail runs two creates of one email in two transactions, the second started while
// the first's row is uncommitted: when the first commits, the second finds its identity (one identity, not a
// conflict error nor a second row); when the first rolls back, the second creates it.
func TestFindOrCreateConcurrentEmail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		commitFirst  bool
		wantCreated2 bool
	}{
		{name: "first commits", commitFirst: true, wantCreated2: false},
		{name: "first rolls back", commitFirst: false, wantCreated2: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := dbtest.New(t)
			ctx := context.Background()
			pool, err := pgxpool.New(ctx, d.AppURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			const email = "race@example.test"

			tx1, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx1.Rollback(ctx)
			first, err := identity.FindOrCreate(ctx, tx1, identity.NewIdentity{Email: email, Name: "First"})
			if err != nil || !first.Created {
				t.Fatalf("first create = %+v, %v; want created", first, err)
			}

			type result struct {
				f   identity.Found
				err error
			}
			done := make(chan result, 1)
			go func() {
				var r result
				r.err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
					r.f, err = identity.FindOrCreate(ctx, tx, identity.NewIdentity{Email: email, Name: "Second"})
					return err
				})
				done <- r
			}()
			waitForLockWait(t, d.Owner)

			if tc.commitFirst {
				err = tx1.Commit(ctx)
			} else {
				err = tx1.Rollback(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatalf("second create: %v", r.err)
			}
			if r.f.Created != tc.wantCreated2 {
				t.Errorf("second create Created = %v, want %v", r.f.Created, tc.wantCreated2)
			}
			if tc.commitFirst && (r.f.ID != first.ID || r.f.Name != "First") {
				t.Errorf("second create found %v %q, want the first's %v %q", r.f.ID, r.f.Name, first.ID, "First")
			}
			var n int
			if err := d.Owner.QueryRow(ctx, `SELECT count(*) FROM directory.identities WHERE email = $1`, email).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("identities with %s = %d, want 1", email, n)
			}
		})
	}
}

// waitForLockWait returns once a session of the test's database waits on a lock: the second insert waiting
// for the first transaction's row.
func waitForLockWait(t *testing.T, owner *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var waiting bool
		if err := owner.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the second create never waited for the first")
}
