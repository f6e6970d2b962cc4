package db

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Resolver finds the data-plane backend that holds a tenant's rows (its placement in the directory).
type Resolver interface {
	Backend(ctx context.Context, tenantID uuid.UUID) (*pgxpool.Pool, error)
}

// SingleBackend places every tenant on one pool: the first deployment, before Citus.
type SingleBackend struct {
	Pool *pgxpool.Pool
}

// Backend returns the one pool.
func (s SingleBackend) Backend(context.Context, uuid.UUID) (*pgxpool.Pool, error) {
	return s.Pool, nil
}

// Tenants is the data-plane handle. Its only way to the data is InTenant.
type Tenants struct {
	resolver Resolver
}

// NewTenants builds the tenant handle over resolver.
func NewTenants(resolver Resolver) *Tenants {
	return &Tenants{resolver: resolver}
}

// InTenant runs fn in one transaction whose first statement is SET LOCAL app.tenant_id, on the backend that
// holds the tenant. BEGIN and SET LOCAL travel together in one simple-protocol round trip (DESIGN.md rule 9);
// SET LOCAL rather than set_config() because only SET statements reach Citus workers (rule 2). The id is
// formatted from a uuid.UUID, so nothing a client sent is spliced into the statement.
func (t *Tenants) InTenant(ctx context.Context, tenantID uuid.UUID, fn func(pgx.Tx) error) error {
	if tenantID == uuid.Nil {
		return fmt.Errorf("in tenant: %w", ErrNotFound)
	}
	pool, err := t.resolver.Backend(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("resolve tenant %s: %w", tenantID, err)
	}
	begin := "BEGIN; SET LOCAL app.tenant_id = '" + tenantID.String() + "'"
	if err := InTx(ctx, pool, pgx.TxOptions{BeginQuery: begin}, fn); err != nil {
		return fmt.Errorf("tenant %s: %w", tenantID, err)
	}
	return nil
}
