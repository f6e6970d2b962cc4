package db_test

import (
	"context"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// BenchmarkInTenant measures the cost of the tenant entry point around one trivial query: BEGIN and SET LOCAL
// in one round trip, the query, COMMIT.
func BenchmarkInTenant(b *testing.B) {
	d := dbtest.New(b)
	ctx := context.Background()
	tenant := uuid.New()
	b.ReportAllocs()
	for b.Loop() {
		err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
			var n int
			return tx.QueryRow(ctx, `SELECT 1`).Scan(&n)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
