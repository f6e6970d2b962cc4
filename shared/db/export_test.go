package db

// Resolver returns the handle's resolver, for tests that need a tenant's raw backend.
func (t *Tenants) Resolver() Resolver { return t.resolver }
