package work_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/coditect/hyperscale/shared/work/sample"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Sentences over the seed's vocabulary (package sample), so that words have the selectivity they have there.
var (
	benchSentences = []string{
		"The {noun} is {adj} {ctx}.",
		"Customers report that the {noun} looks {adj} {ctx}.",
		"We need to {verb} the {noun} before the next sprint.",
		"Steps to reproduce: open the {noun}, then the {noun}.",
		"Blocked until the {noun} is ready.",
		"See the linked ticket about the {adj} {noun}.",
		"About 12 users are affected {ctx}.",
		"Needs QA sign-off on the {noun}.",
		"Follow-up from the incident with the {noun} {ctx}.",
		"Acceptance: the {noun} works {ctx} and the {noun} is updated.",
	}
)

func benchPick(r *rand.Rand, words []string) string { return words[r.IntN(len(words))] }

func benchTitle(r *rand.Rand) string {
	s := benchPick(r, sample.Verbs)
	if r.IntN(3) > 0 {
		s += " " + benchPick(r, sample.Adjectives)
	}
	s += " " + benchPick(r, sample.Nouns)
	if r.IntN(2) == 0 {
		s += " " + benchPick(r, sample.Contexts)
	}
	return s
}

func benchParagraph(r *rand.Rand, n int) string {
	var out []string
	for range n {
		s := benchPick(r, benchSentences)
		for _, p := range []struct {
			key   string
			words []string
		}{{"{noun}", sample.Nouns}, {"{adj}", sample.Adjectives}, {"{ctx}", sample.Contexts}, {"{verb}", sample.Verbs}} {
			for strings.Contains(s, p.key) {
				s = strings.Replace(s, p.key, strings.ToLower(benchPick(r, p.words)), 1)
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// workSeed is one large tenant among small ones, loaded in bulk as the owner and indexed with BackfillSQL,
// as scripts/seed and the migration do.
type workSeed struct {
	d        *dbtest.Database
	tenant   uuid.UUID
	projects []uuid.UUID
	// deleted is a deleted project of the large tenant.
	deleted uuid.UUID
	now     time.Time
}

// seedWork loads, with COPY, a tenant of tasks tasks over 100 projects (2 of them deleted, 5 archived),
// statuses 35% todo, 18% in progress, 7% blocked, 40% done (completed over the last year, more of them
// lately), 70% due within 90 days of today, titles and descriptions in the tracker vocabulary above, one
// comment per 50 tasks, and an activity row per task; and others small tenants of 20 tasks each. Then it runs
// BackfillSQL and VACUUM ANALYZE, so plans and timings are those of a settled shared database.
func seedWork(tb testing.TB, tasks, others int) workSeed {
	tb.Helper()
	ctx := context.Background()
	d := dbtest.New(tb)
	now := time.Now().UTC()
	s := workSeed{d: d, tenant: uuid.Must(uuid.NewV7()), now: now}
	r := rand.New(rand.NewPCG(1, 2))
	var projects, taskRows, comments, activity [][]any
	addTenant := func(tenant uuid.UUID, nProjects, nTasks int) []uuid.UUID {
		var ids []uuid.UUID
		for i := range nProjects {
			id := uuid.Must(uuid.NewV7())
			ids = append(ids, id)
			status := "active"
			if i%7 == 3 {
				status = "on_hold"
			}
			var deleted, archived any
			if nProjects >= 100 && i < 2 {
				deleted = now.Add(-24 * time.Hour)
			}
			if nProjects >= 100 && i >= 2 && i < 7 {
				archived = now.Add(-48 * time.Hour)
			}
			projects = append(projects, []any{tenant, id, fmt.Sprintf("%s %s", benchPick(r, sample.Adjectives), benchPick(r, sample.Nouns)),
				benchParagraph(r, 1), tenant, status, now.Add(-time.Duration(r.IntN(1000)) * time.Hour), deleted, archived})
		}
		for i := range nTasks {
			id := uuid.Must(uuid.NewV7())
			project := ids[r.IntN(len(ids))]
			var status string
			switch x := r.IntN(100); {
			case x < 35:
				status = "todo"
			case x < 53:
				status = "in_progress"
			case x < 60:
				status = "blocked"
			default:
				status = "done"
			}
			var completed, due, deleted any
			if status == "done" {
				age := r.Float64()
				completed = now.Add(-time.Duration(age*age*365*24) * time.Hour)
			}
			if r.IntN(100) < 70 {
				due = now.AddDate(0, 0, r.IntN(181)-90).Format(time.DateOnly)
			}
			if r.IntN(100) == 0 {
				deleted = now.Add(-time.Hour)
			}
			desc := ""
			if r.IntN(2) == 0 {
				desc = benchParagraph(r, 1+r.IntN(3))
			}
			taskRows = append(taskRows, []any{tenant, id, project, benchTitle(r), desc, status, int16(r.IntN(4)), due,
				float64(i), tenant, completed, deleted})
			if i%50 == 0 {
				comments = append(comments, []any{tenant, uuid.Must(uuid.NewV7()), id, tenant, benchParagraph(r, 2)})
			}
			activity = append(activity, []any{tenant, uuid.Must(uuid.NewV7()), tenant, "task", id, "created", now.Add(-time.Duration(nTasks-i) * time.Minute)})
		}
		return ids
	}
	for range others {
		addTenant(uuid.Must(uuid.NewV7()), 2, 20)
	}
	s.projects = addTenant(s.tenant, 100, tasks)
	s.deleted = s.projects[0]
	for _, load := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"projects", []string{"tenant_id", "id", "name", "description", "created_by", "status", "updated_at", "deleted_at", "archived_at"}, projects},
		{"tasks", []string{"tenant_id", "id", "project_id", "title", "description", "status", "priority", "due_date", "position", "created_by", "completed_at", "deleted_at"}, taskRows},
		{"comments", []string{"tenant_id", "id", "task_id", "author_id", "body"}, comments},
		{"activity", []string{"tenant_id", "id", "actor_id", "entity_type", "entity_id", "action", "created_at"}, activity},
	} {
		if _, err := d.Owner.CopyFrom(ctx, pgx.Identifier{"tenant", load.table}, load.cols, pgx.CopyFromRows(load.rows)); err != nil {
			tb.Fatalf("load %s: %v", load.table, err)
		}
	}
	for _, stmt := range work.BackfillSQL {
		if _, err := d.Owner.Exec(ctx, stmt); err != nil {
			tb.Fatalf("backfill: %v", err)
		}
	}
	for _, table := range []string{"projects", "tasks", "comments", "activity", "search_terms", "task_counts"} {
		if _, err := d.Owner.Exec(ctx, `VACUUM ANALYZE tenant.`+table, pgx.QueryExecModeSimpleProtocol); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// benchSearches are the searches the plan test and the benchmark run: typical two-word searches, one word,
// common words, a prefix being typed, a miss.
var benchSearches = []struct{ name, q string }{
	{"two words", "invoice android"},
	{"two words 2", "checkout safari"},
	{"one word", "webhook"},
	{"common words", "customers report"},
	{"three words", "flaky checkout android"},
	{"typing prefix", "invoice andr"},
	{"prefix of several words", "rep"},
	{"miss", "zebra"},
}

// medianOf runs fn n times and returns the median duration.
func medianOf(b *testing.B, fn func()) {
	b.Helper()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		fn()
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
}

// BenchmarkSearch searches a tenant of 100,000 tasks (beside 2,000 small tenants): a whole request's work in
// the store, one round trip, from the query text to the page of results with snippets.
//
//	go test ./shared/work -run '^$' -bench 'Search$' -benchtime 200x
func BenchmarkSearch(b *testing.B) {
	s := seedWork(b, 100_000, 2000)
	search := work.NewSearch(s.d.DB)
	ctx := context.Background()
	for _, c := range benchSearches {
		b.Run(c.name, func(b *testing.B) {
			q := work.SearchQuery{Text: c.q, Limit: 20}
			medianOf(b, func() {
				if _, err := search.Find(ctx, s.tenant, q); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkDashboard reads the dashboard of the same tenant: one batch of seven reads.
//
//	go test ./shared/work -run '^$' -bench 'Dashboard$' -benchtime 200x
func BenchmarkDashboard(b *testing.B) {
	s := seedWork(b, 100_000, 2000)
	dash := work.NewDashboards(s.d.DB)
	ctx := context.Background()
	medianOf(b, func() {
		if _, err := dash.Get(ctx, s.tenant, s.now); err != nil {
			b.Fatal(err)
		}
	})
}
