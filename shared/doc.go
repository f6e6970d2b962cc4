// Package shared is the tenant-scoped data library and the platform plumbing that every Hyperscale function
// imports: configuration, database access, HTTP edge helpers, tokens and telemetry.
package shared
