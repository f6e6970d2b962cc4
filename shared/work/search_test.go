package work_test

import (
	"context"
	"fmt"
	"github.com/coditect/hyperscale/shared/valid/validtest"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/schema"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// searchFixture is an organization with two projects, tasks and a comment, all written through the stores so
// that their search rows are the stores' own.
type searchFixture struct {
	d          *dbtest.Database
	org        taskOrg
	search     *work.Search
	projects   *work.Projects
	tasks      *work.Tasks
	comments   *work.Comments
	billing    work.Project // "Billing invoices"
	app        work.Project // "Android app"
	send       work.Task    // "Send invoice to ACME", in billing
	release    work.Task    // "Android release", in billing
	reminder   work.Task    // "Payment reminder", in billing
	export     work.Task    // "Invoice export on Android", in app
	overdueMsg work.Comment // on reminder
}

func newSearchFixture(t *testing.T) searchFixture {
	t.Helper()
	return newSearchFixtureIn(t, dbtest.New(t))
}

// newSearchFixtureIn writes the search fixture into d, as a new organization.
func newSearchFixtureIn(t *testing.T, d *dbtest.Database) searchFixture {
	t.Helper()
	f := searchFixture{d: d, org: newTaskOrg(t, d), search: work.NewSearch(d.DB), projects: work.NewProjects(d.DB),
		tasks: work.NewTasks(d.DB), comments: work.NewComments(d.DB)}
	ctx := context.Background()
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.billing, err = f.projects.Create(ctx, f.org.tenant, f.org.owner, work.ProjectInput{Name: "Billing invoices", Description: "Everything about invoices and payments"})
	must(err)
	f.send, err = f.tasks.Create(ctx, f.org.tenant, f.org.owner, f.billing.ID, work.TaskInput{Title: "Send invoice to ACME", Description: "The customer asked for it on Android."})
	must(err)
	f.release, err = f.tasks.Create(ctx, f.org.tenant, f.org.owner, f.billing.ID, work.TaskInput{Title: "Android release", Description: "Check the invoice screen before shipping."})
	must(err)
	f.reminder, err = f.tasks.Create(ctx, f.org.tenant, f.org.owner, f.billing.ID, work.TaskInput{Title: "Payment reminder", Description: "Unrelated words only."})
	must(err)
	f.app, err = f.projects.Create(ctx, f.org.tenant, f.org.owner, work.ProjectInput{Name: "Android app"})
	must(err)
	f.export, err = f.tasks.Create(ctx, f.org.tenant, f.org.owner, f.app.ID, work.TaskInput{Title: "Invoice export on Android"})
	must(err)
	f.overdueMsg, err = f.comments.Create(ctx, f.org.tenant, f.org.member, f.reminder.ID, work.CommentInput{Body: "Invoice is overdue\nand the android build too"})
	must(err)
	return f
}

// find runs a search of q (a query string) and returns its results as "type title score" lines.
func (f searchFixture) find(t *testing.T, tenant uuid.UUID, raw string) []string {
	t.Helper()
	res := f.page(t, f.search, tenant, raw)
	var out []string
	for _, r := range res.Items {
		out = append(out, fmt.Sprintf("%s %s %d", r.Type, r.Title, r.Score))
	}
	return out
}

func (f searchFixture) page(t *testing.T, s *work.Search, tenant uuid.UUID, raw string) struct {
	Items      []work.SearchResult
	NextCursor *string
} {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := work.ParseSearchQuery(v, testCursors)
	if err != nil {
		t.Fatalf("?%s: %v", raw, err)
	}
	pg, err := s.Find(context.Background(), tenant, q)
	if err != nil {
		t.Fatalf("?%s: %v", raw, err)
	}
	return struct {
		Items      []work.SearchResult
		NextCursor *string
	}{pg.Items, pg.NextCursor}
}

func TestSearchFindsRanksAndFollowsWrites(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	tenant := f.org.tenant
	for _, tc := range []struct {
		q    string
		want []string
	}{
		// Whole words score 2 per title hit and 1 per body hit, doubled; the name and description of a project
		// both hold "invoices". Equal scores: newest first.
		{"q=invoice", []string{"project Billing invoices 6", "task Invoice export on Android 4", "task Send invoice to ACME 4",
			"comment Invoice is overdue 2", "task Android release 2"}},
		// Every word must match; stemming makes "invoices" and "invoice" one word.
		{"q=invoices+android", []string{"task Invoice export on Android 8", "task Android release 6", "task Send invoice to ACME 6",
			"comment Invoice is overdue 4"}},
		{"q=" + url.QueryEscape("ANDROID, invoice!"), []string{"task Invoice export on Android 8", "task Android release 6",
			"task Send invoice to ACME 6", "comment Invoice is overdue 4"}},
		// The last word matches as a prefix, scoring its weight undoubled.
		{"q=andr", []string{"project Android app 2", "task Invoice export on Android 2", "task Android release 2",
			"comment Invoice is overdue 1", "task Send invoice to ACME 1"}},
		{"q=invoice+andro", []string{"task Invoice export on Android 6", "task Android release 4", "task Send invoice to ACME 5",
			"comment Invoice is overdue 3"}},
		// Only a last word of at least three letters is a prefix; "pa" is not a word of any of them.
		{"q=pa", nil},
		{"q=pay", []string{"task Payment reminder 2", "project Billing invoices 1"}},
		{"q=paym", []string{"task Payment reminder 2", "project Billing invoices 1"}},
		// "payments" is the word "payment" (stemmed), in a title and in a description.
		{"q=payments", []string{"task Payment reminder 4", "project Billing invoices 2"}},
		// Words too common to index find nothing, and so does a word nobody wrote.
		{"q=the+and", nil},
		{"q=" + url.QueryEscape("%_\\"), nil},
		{"q=zebra", nil},
		{"q=invoice+zebra", nil},
	} {
		got := f.find(t, tenant, tc.q)
		slices.Sort(got) // the ranking is checked below; here, what is found and its score
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("?%s = %q, want %q", tc.q, got, want)
		}
	}
	// The ranking: score, then newest first.
	if got := f.find(t, tenant, "q=invoice+andro"); !slices.Equal(got, []string{"task Invoice export on Android 6", "task Send invoice to ACME 5",
		"task Android release 4", "comment Invoice is overdue 3"}) {
		t.Errorf("ranking = %q", got)
	}
	if got := f.find(t, tenant, "q=invoice"); !slices.Equal(got, []string{"project Billing invoices 6", "task Invoice export on Android 4",
		"task Send invoice to ACME 4", "comment Invoice is overdue 2", "task Android release 2"}) {
		t.Errorf("ranking = %q", got)
	}

	// The result's shape: a comment names its task and project, and its title is its first line; snippets
	// come from the body, around the words found.
	res := f.page(t, f.search, tenant, "q=invoice+android").Items
	byID := map[uuid.UUID]work.SearchResult{}
	for _, r := range res {
		byID[r.ID] = r
	}
	c := byID[f.overdueMsg.ID]
	if c.Type != "comment" || c.TaskID == nil || *c.TaskID != f.reminder.ID || c.ProjectID != f.billing.ID || c.Title != "Invoice is overdue" ||
		!strings.Contains(c.Snippet, "android build") {
		t.Errorf("comment result = %+v", c)
	}
	r := byID[f.release.ID]
	if r.Type != "task" || r.TaskID != nil || r.ProjectID != f.billing.ID || !strings.Contains(r.Snippet, "invoice screen") {
		t.Errorf("task result = %+v", r)
	}
	if p := f.page(t, f.search, tenant, "q=payments").Items; len(p) != 2 || p[1].ID != f.billing.ID || p[1].ProjectID != f.billing.ID ||
		p[1].Type != "project" || !strings.Contains(p[1].Snippet, "payments") {
		t.Errorf("project result = %+v", p)
	}

	// Writes move the index: a renamed task is found by its new words only, an edited comment likewise.
	if _, err := f.tasks.Patch(ctx, tenant, f.org.owner, f.send.ID, work.TaskPatch{Title: work.Given("Send bill to ACME")}, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.comments.Update(ctx, tenant, f.org.member, false, f.overdueMsg.ID, work.CommentInput{Body: "Reminder sent\nby post"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.projects.Update(ctx, tenant, f.org.owner, f.app.ID, work.ProjectInput{Name: "Mobile app", Description: "android and iOS"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"q=invoice", []string{"project Billing invoices 6", "task Invoice export on Android 4", "task Android release 2"}},
		{"q=bill", []string{"task Send bill to ACME 4", "project Billing invoices 4"}}, // "billing" stems to "bill"
		{"q=reminder+post", []string{"comment Reminder sent 4"}},
		{"q=mobile+android", []string{"project Mobile app 6"}},
	} {
		if got := f.find(t, tenant, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("after edits ?%s = %q, want %q", tc.q, got, tc.want)
		}
	}

	// Deleted things are not found: a task, a comment, a project with its tasks; a deleted task hides its
	// comments; a restored project brings its own back.
	if err := f.tasks.Delete(ctx, tenant, f.org.owner, f.release.ID, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	if err := f.projects.Delete(ctx, tenant, f.org.owner, "owner", f.app.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.find(t, tenant, "q=android"); !slices.Equal(got, []string{"task Send bill to ACME 2"}) {
		t.Errorf("after deletes ?q=android = %q", got)
	}
	if got := f.find(t, tenant, "q=reminder"); !slices.Equal(got, []string{"comment Reminder sent 2", "task Payment reminder 4"}) && !slices.Equal(got, []string{"task Payment reminder 4", "comment Reminder sent 2"}) {
		t.Errorf("?q=reminder = %q", got)
	}
	if err := f.tasks.Delete(ctx, tenant, f.org.owner, f.reminder.ID, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	if got := f.find(t, tenant, "q=reminder"); len(got) != 0 {
		t.Errorf("comment of a deleted task found: %q", got)
	}
	if _, err := f.projects.Restore(ctx, tenant, f.org.owner, "owner", f.app.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.find(t, tenant, "q=android"); !slices.Equal(got, []string{"task Invoice export on Android 4", "project Mobile app 2", "task Send bill to ACME 2"}) {
		t.Errorf("after restore ?q=android = %q", got)
	}
	// The deleted task's and comment's rows are gone from the index, not just hidden.
	if n := strs(t, f.d, `SELECT doc_id::text FROM tenant.search_terms WHERE tenant_id = $1 AND doc_id = ANY($2)`,
		tenant, []uuid.UUID{f.release.ID, f.reminder.ID}); len(n) != 0 {
		t.Errorf("rows left for deleted tasks: %d", len(n))
	}
	if err := f.comments.Delete(ctx, tenant, f.org.admin, true, f.overdueMsg.ID); err == nil {
		t.Errorf("deleting a comment of a deleted task succeeded")
	}
}

func TestSearchPaginatesEveryResultOnce(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	// Ties: ten tasks of one score, so that the cursor's id part matters.
	for i := range 10 {
		if _, err := f.tasks.Create(ctx, f.org.tenant, f.org.owner, f.billing.ID, work.TaskInput{Title: fmt.Sprintf("Invoice batch %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	all := f.page(t, f.search, f.org.tenant, "q=invoice&limit=100").Items
	if len(all) != 15 {
		t.Fatalf("%d results, want 15", len(all))
	}
	for _, limit := range []int{1, 2, 4, 15} {
		var got []work.SearchResult
		raw := fmt.Sprintf("q=invoice&limit=%d", limit)
		for range 20 {
			pg := f.page(t, f.search, f.org.tenant, raw)
			got = append(got, pg.Items...)
			if pg.NextCursor == nil {
				break
			}
			// A new match between pages sorts where it sorts; the walk still sees every earlier result once.
			raw = fmt.Sprintf("q=invoice&limit=%d&cursor=%s", limit, *pg.NextCursor)
		}
		if len(got) != len(all) {
			t.Fatalf("limit %d: %d results, want %d", limit, len(got), len(all))
		}
		for i := range got {
			if got[i].ID != all[i].ID {
				t.Fatalf("limit %d: result %d is %s, want %s", limit, i, got[i].Title, all[i].Title)
			}
		}
	}
}

func TestParseSearchQuery(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", work.MaxSearchLength)
	for _, tc := range []struct {
		raw    string
		fields []string
	}{
		{"q=invoice", nil},
		{"q=" + url.QueryEscape(long), nil},
		{"q=++invoice++&limit=100", nil},
		{"", []string{"q"}},
		{"q=", []string{"q"}},
		{"q=+++", []string{"q"}},
		{"q=" + url.QueryEscape(long+"x"), []string{"q"}},
		{"q=a%00b", []string{"q"}},
		{"q=%ff", []string{"q"}},
		{"q=x&limit=0", []string{"limit"}},
		{"q=x&limit=101", []string{"limit"}},
		{"q=x&limit=ten", []string{"limit"}},
		{"q=x&cursor=zzz", []string{"cursor"}},
		// A task list's cursor is not a search's.
		{"q=x&cursor=eyJvIjoiLWNyZWF0ZWQiLCJpIjoiMDE5MDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAxIn0", []string{"cursor"}},
		{"limit=0&cursor=zzz", []string{"limit", "q", "cursor"}},
	} {
		v, err := url.ParseQuery(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = work.ParseSearchQuery(v, testCursors)
		got := validtest.Fields(err)
		slices.Sort(got)
		want := slices.Clone(tc.fields)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("?%s: fields %v (%v), want %v", tc.raw, got, err, want)
		}
	}
}

func TestSearchCursorBelongsToItsQuery(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	pg := f.page(t, f.search, f.org.tenant, "q=invoice&limit=1")
	if pg.NextCursor == nil {
		t.Fatal("no next page")
	}
	for _, raw := range []string{"q=android&cursor=" + *pg.NextCursor, "q=invoices&cursor=" + *pg.NextCursor} {
		v, _ := url.ParseQuery(raw)
		if _, err := work.ParseSearchQuery(v, testCursors); !slices.Equal(validtest.Fields(err), []string{"cursor"}) {
			t.Errorf("?%s: %v, want a cursor error", raw, err)
		}
	}
	v, _ := url.ParseQuery("q=+invoice+&cursor=" + *pg.NextCursor)
	if _, err := work.ParseSearchQuery(v, testCursors); err != nil {
		t.Errorf("same search, other spacing: %v", err)
	}
}

// searchIsolation is the search fixture as tenant A and, as tenant B, an organization with one project of its
// own whose name shares A's words.
type searchIsolation struct {
	isolation.Tenants
	f      searchFixture
	search *work.Search
}

// Search finds tenant B none of A's things, by any of their words, through both walls of the isolation suite.
var _ = isolation.Register(isolation.Case[*searchIsolation]{
	Name:   "search",
	Stores: []string{"Search"},
	Tables: []string{"tenant.search_terms"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *searchIsolation {
		f := newSearchFixtureIn(t, d)
		other := newTaskOrg(t, d)
		if _, err := f.projects.Create(context.Background(), other.tenant, other.owner, work.ProjectInput{Name: "B's own invoices"}); err != nil {
			t.Fatal(err)
		}
		return &searchIsolation{Tenants: isolation.Tenants{f.org.tenant, other.tenant}, f: f, search: work.NewSearch(w.DB)}
	},
	Ops: searchOps(),
	Check: func(t *testing.T, d *dbtest.Database, x *searchIsolation) {
		if got := x.f.page(t, x.search, x.Tenant(isolation.A), "q=invoice").Items; len(got) != 5 {
			t.Errorf("A finds %d, want 5 (and not B's)", len(got))
		}
	},
})

// searchOps search for each of A's words; Run counts the results that are not B's own project.
func searchOps() []isolation.Op[*searchIsolation] {
	var ops []isolation.Op[*searchIsolation]
	for _, q := range []string{"q=invoice", "q=android", "q=andr", "q=payment", "q=acme", "q=overdue"} {
		ops = append(ops, isolation.Op[*searchIsolation]{Name: q, Want: isolation.Nothing,
			Run: func(ctx context.Context, x *searchIsolation, as isolation.Side) (int, error) {
				v, err := url.ParseQuery(q)
				if err != nil {
					return 0, err
				}
				sq, err := work.ParseSearchQuery(v, testCursors)
				if err != nil {
					return 0, err
				}
				pg, err := x.search.Find(ctx, x.Tenant(as), sq)
				n := 0
				for _, r := range pg.Items {
					if r.Title != "B's own invoices" {
						n++
					}
				}
				return n, err
			}})
	}
	return ops
}

// TestSearchRowsMatchBackfill checks that the rows the stores write are exactly those BackfillSQL computes
// from the same projects, tasks and comments (so a bulk load and the application agree), and that migration
// 00008 runs the same statements.
func TestSearchRowsMatchBackfill(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	// Changes of every kind first: edits, status moves, deletes.
	if _, err := f.tasks.Patch(ctx, f.org.tenant, f.org.owner, f.send.ID, work.TaskPatch{Title: work.Given("Send bill"), Status: work.Given("done")}, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tasks.Patch(ctx, f.org.tenant, f.org.owner, f.export.ID, work.TaskPatch{Status: work.Given("blocked"), Description: work.Given("Waiting on the store review")}, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	if err := f.tasks.Delete(ctx, f.org.tenant, f.org.owner, f.release.ID, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.comments.Update(ctx, f.org.tenant, f.org.member, false, f.overdueMsg.ID, work.CommentInput{Body: "Edited: the invoices went out"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.projects.Update(ctx, f.org.tenant, f.org.owner, f.app.ID, work.ProjectInput{Name: "Mobile app", Description: "Phones"}); err != nil {
		t.Fatal(err)
	}
	// The owner-written fixture project of newTaskOrg has no rows of its own, as if bulk-loaded: leave it out.
	snapshot := func(tx pgx.Tx) []string {
		t.Helper()
		rows, err := tx.Query(ctx, `SELECT format('%s %s %s %s %s', tenant_id, term, doc_id, kind, weight) FROM tenant.search_terms
			WHERE doc_id <> $1
			UNION ALL SELECT format('%s %s %s %s', tenant_id, project_id, status, tasks) FROM tenant.task_counts WHERE tasks <> 0 AND project_id <> $1
			ORDER BY 1`, f.org.project)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tx, err := f.d.Owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	written := snapshot(tx)
	if len(written) < 20 {
		t.Fatalf("only %d rows written", len(written))
	}
	if _, err := tx.Exec(ctx, `DELETE FROM tenant.search_terms; DELETE FROM tenant.task_counts`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range work.BackfillSQL {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if backfilled := snapshot(tx); !slices.Equal(written, backfilled) {
		t.Errorf("rows written by the stores:\n%s\nrows of the backfill:\n%s", strings.Join(written, "\n"), strings.Join(backfilled, "\n"))
	}

	files, err := schema.Files(schema.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	migration, err := fs.ReadFile(files, "00008_search.sql")
	if err != nil {
		t.Fatal(err)
	}
	space := regexp.MustCompile(`\s+`)
	flat := space.ReplaceAllString(string(migration), " ")
	for _, stmt := range work.BackfillSQL {
		if !strings.Contains(flat, space.ReplaceAllString(stmt, " ")+";") {
			t.Errorf("migration 00008 does not run %s", stmt)
		}
	}
}

func TestSearchWordLimitsAndPrefixes(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	for _, title := range []string{"alpha bravo charlie delta echo foxtrot golf hotel", "Deploy the report", "Reproduce the crash"} {
		if _, err := f.tasks.Create(ctx, f.org.tenant, f.org.owner, f.billing.ID, work.TaskInput{Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		// Only the first eight words count: a ninth is ignored, wherever it comes from.
		{"alpha bravo charlie delta echo foxtrot golf hotel zebra", []string{"alpha bravo charlie delta echo foxtrot golf hotel"}},
		{"zebra alpha bravo charlie delta echo foxtrot golf hotel", nil},
		// The last of them is a prefix standing for one term.
		{"alpha bravo charlie delta echo foxtrot golf hot", []string{"alpha bravo charlie delta echo foxtrot golf hotel"}},
		// A prefix that starts no word finds nothing; one that starts several finds each.
		{"alpha hxq", nil},
		{"rep", []string{"Deploy the report", "Reproduce the crash"}},
		{"repo", []string{"Deploy the report"}},
		{"report", []string{"Deploy the report"}},
	} {
		var got []string
		for _, r := range f.page(t, f.search, f.org.tenant, "q="+url.QueryEscape(tc.q)).Items {
			got = append(got, r.Title)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q = %q, want %q", tc.q, got, tc.want)
		}
	}
}
