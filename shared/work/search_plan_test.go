package work_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/work"
	"github.com/jackc/pgx/v5"
)

// explainAsApp returns the JSON plan of sql with args, run as the application role in tenant's transaction,
// so with row-level security applied: what production runs. Both the custom plan (values bound, as with the
// first executions of a prepared statement) and the generic plan (as with later ones) are checked.
func explainAsApp(t *testing.T, s workSeed, sql string, args []any, generic bool) map[string]any {
	t.Helper()
	ctx := context.Background()
	var raw []byte
	err := s.d.DB.Tenants.InTenant(ctx, s.tenant, func(tx pgx.Tx) error {
		mode := "force_custom_plan"
		if generic {
			mode = "force_generic_plan"
		}
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = `+mode); err != nil {
			return err
		}
		// A named prepared statement, so that force_generic_plan applies.
		if _, err := tx.Prepare(ctx, "explained", `EXPLAIN (FORMAT JSON) `+sql); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "explained", args...).Scan(&raw); err != nil {
			return err
		}
		return tx.Conn().Deallocate(ctx, "explained")
	})
	if err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	var plans []map[string]any
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	return plans[0]["Plan"].(map[string]any)
}

// TestSearchAndDashboardPlansUseIndexes seeds a tenant of 20,000 tasks beside 500 small tenants and checks,
// with EXPLAIN as the application role, that the search reads its postings from search_terms' primary key
// with the term as an index condition (the prefix's range included: under row-level security a non-leakproof
// condition would be a mere filter), that nothing is read by a sequential scan, and that each of the
// dashboard's reads uses the index designed for it.
func TestSearchAndDashboardPlansUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20,000 tasks")
	}
	t.Parallel()
	s := seedWork(t, 20_000, 500)
	describe := func(plan map[string]any) (scans []string, seq bool, conds []string) {
		walkPlan(plan, func(n map[string]any) {
			rel, _ := n["Relation Name"].(string)
			idx, _ := n["Index Name"].(string)
			typ, _ := n["Node Type"].(string)
			if rel != "" || idx != "" {
				scans = append(scans, strings.TrimSpace(typ+" "+rel+" "+idx))
			}
			seq = seq || typ == "Seq Scan"
			if idx == "search_terms_pkey" {
				c, _ := n["Index Cond"].(string)
				f, _ := n["Filter"].(string)
				conds = append(conds, c+" | filter: "+f)
			}
		})
		return
	}
	// The words' statement is a prepared one: its custom and generic plans.
	ctx := context.Background()
	for _, generic := range []bool{false, true} {
		for _, c := range benchSearches {
			scans, seq, conds := describe(explainAsApp(t, s, work.WordsSQL, []any{s.tenant, c.q}, generic))
			for _, cond := range conds {
				if !strings.Contains(cond, "(term >= ") && !strings.Contains(cond, "(term > ") || !strings.Contains(cond, "(term < ") ||
					strings.Contains(cond, "filter: (term") {
					t.Errorf("words of %s (generic %v): search_terms read with %q, want the prefix's range as the index condition", c.q, generic, cond)
				}
			}
			if seq {
				t.Errorf("words of %s (generic %v): scans %v, want no sequential scan", c.q, generic, scans)
			}
		}
	}
	// Searches are planned for their words each time (an unnamed statement), so only their custom plans run.
	for _, c := range benchSearches {
		for _, cursor := range []bool{false, true} {
			var (
				sql  string
				args []any
				ok   bool
			)
			err := s.d.DB.Tenants.InTenant(ctx, s.tenant, func(tx pgx.Tx) (err error) {
				sql, args, ok, err = work.SearchStatement(ctx, tx, s.tenant, c.q, cursor)
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", c.q, err)
			}
			if !ok {
				// Nothing to search for: only the words' statement ran.
				sql, args = work.WordsSQL, []any{s.tenant, c.q}
			}
			scans, seq, conds := describe(explainAsApp(t, s, sql, args, false))
			if seq || len(conds) == 0 {
				t.Errorf("%s: scans %v, want search_terms_pkey and no sequential scan", c.q, scans)
			}
			for _, cond := range conds {
				if !strings.Contains(cond, "(term = ") && !((strings.Contains(cond, "(term >= ") || strings.Contains(cond, "(term > ")) && strings.Contains(cond, "(term < ")) ||
					strings.Contains(cond, "filter: (term") {
					t.Errorf("%s: search_terms read with %q, want the term (or its range) as the index condition", c.q, cond)
				}
			}
			if testing.Verbose() {
				t.Logf("%s: %v %v", c.q, scans, conds)
			}
		}
	}
	for _, generic := range []bool{false, true} {
		for _, r := range work.DashboardReads(s.tenant, s.now) {
			scans, seq, _ := describe(explainAsApp(t, s, r.SQL, r.Args, generic))
			found := false
			for _, sc := range scans {
				found = found || strings.HasSuffix(sc, " "+r.Index)
			}
			if seq || !found {
				t.Errorf("dashboard %s (generic %v): scans %v, want %s and no sequential scan", r.Name, generic, scans, r.Index)
			}
			if testing.Verbose() {
				t.Logf("dashboard %s (generic %v): %v", r.Name, generic, scans)
			}
		}
	}
}
