package tasks

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/work"
)

// insightRoutes is GET /v1/search and GET /v1/dashboard over a private database, with the stores that write
// what they read.
type insightRoutes struct {
	h        http.Handler
	f        *servicetest.Fixture
	projects *work.Projects
	tasks    *work.Tasks
	comments *work.Comments
}

func newInsightRoutes(t *testing.T) insightRoutes {
	t.Helper()
	f := servicetest.New(t)
	mux := f.Env.Mux()
	registerSearch(f.Env, mux)
	registerDashboard(f.Env, mux)
	return insightRoutes{h: f.Env.Handler(mux), f: f, projects: work.NewProjects(f.Env.DB),
		tasks: work.NewTasks(f.Env.DB), comments: work.NewComments(f.Env.DB)}
}

func (x insightRoutes) get(t *testing.T, bearer, path string, status int) servicetest.Response {
	t.Helper()
	return servicetest.Expect(t, servicetest.Do(t, x.h, servicetest.Request{Method: "GET", Path: path, Bearer: bearer}), status)
}

func TestSearchRoute(t *testing.T) {
	t.Parallel()
	x := newInsightRoutes(t)
	owner := x.f.Member(t, "owner")
	ctx := t.Context()
	p, err := x.projects.Create(ctx, owner.TenantID, owner.IdentityID, work.ProjectInput{Name: "Invoices", Description: "Billing work"})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := x.tasks.Create(ctx, owner.TenantID, owner.IdentityID, p.ID, work.TaskInput{Title: "Send the invoice", Description: "To ACME, by Friday"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := x.comments.Create(ctx, owner.TenantID, owner.IdentityID, tk.ID, work.CommentInput{Body: "Invoice sent\nwaiting for payment"})
	if err != nil {
		t.Fatal(err)
	}
	// Every role reads; a viewer searches here.
	viewer := x.f.Token(t, x.f.Join(t, owner.TenantID, "viewer"))
	res := x.get(t, viewer, "/v1/search?q=invoice", 200)
	items := res.Items()
	if len(items) != 3 || res.Body["next_cursor"] != nil {
		t.Fatalf("search = %s", res.Raw)
	}
	byType := map[string]map[string]any{}
	for _, it := range items {
		byType[it["type"].(string)] = it
		for _, key := range []string{"type", "id", "title", "snippet", "project_id", "score"} {
			if _, ok := it[key]; !ok {
				t.Errorf("item lacks %s: %v", key, it)
			}
		}
	}
	if it := byType["comment"]; it["id"] != c.ID.String() || it["task_id"] != tk.ID.String() || it["project_id"] != p.ID.String() ||
		it["title"] != "Invoice sent" || !strings.Contains(it["snippet"].(string), "payment") {
		t.Errorf("comment item = %v", it)
	}
	if it := byType["task"]; it["id"] != tk.ID.String() || it["project_id"] != p.ID.String() || it["title"] != "Send the invoice" || it["task_id"] != nil {
		t.Errorf("task item = %v", it)
	}
	if it := byType["project"]; it["id"] != p.ID.String() || it["project_id"] != p.ID.String() || it["title"] != "Invoices" {
		t.Errorf("project item = %v", it)
	}
	if items[0]["score"].(float64) < items[2]["score"].(float64) {
		t.Errorf("not best first: %s", res.Raw)
	}

	// Pages of one, each result once, in the order of the whole.
	var seen []string
	path := "/v1/search?q=invoice&limit=1"
	for range 5 {
		pg := x.get(t, viewer, path, 200)
		for _, it := range pg.Items() {
			seen = append(seen, it["id"].(string))
		}
		next, _ := pg.Body["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/v1/search?q=invoice&limit=1&cursor=" + next
	}
	if len(seen) != 3 || seen[0] != items[0]["id"] || seen[1] != items[1]["id"] || seen[2] != items[2]["id"] {
		t.Errorf("paged %v, whole %s", seen, res.Raw)
	}

	// Two words, every one must match; a word in nothing finds nothing.
	if got := x.get(t, viewer, "/v1/search?q="+url.QueryEscape("invoice payment"), 200).Items(); len(got) != 1 || got[0]["type"] != "comment" {
		t.Errorf("two words: %v", got)
	}
	if got := x.get(t, viewer, "/v1/search?q=zebra", 200); len(got.Items()) != 0 || got.Raw == "" || !strings.Contains(got.Raw, `"items":[]`) {
		t.Errorf("no match: %s", got.Raw)
	}
	// A deleted project takes its task and comment with it.
	if err := x.projects.Delete(ctx, owner.TenantID, owner.IdentityID, "owner", p.ID); err != nil {
		t.Fatal(err)
	}
	if got := x.get(t, viewer, "/v1/search?q=invoice", 200).Items(); len(got) != 0 {
		t.Errorf("after deleting the project: %v", got)
	}
}

func TestSearchRouteRefusesBadInput(t *testing.T) {
	t.Parallel()
	x := newInsightRoutes(t)
	tok := x.f.Token(t, x.f.Member(t, "member"))
	x.get(t, tok, "/v1/search?q=x", 200)
	for _, tc := range []struct{ query, field string }{
		{"", "q"},
		{"q=", "q"},
		{"q=++", "q"},
		{"q=" + strings.Repeat("a", work.MaxSearchLength+1), "q"},
		{"q=a%00", "q"},
		{"q=x&limit=0", "limit"},
		{"q=x&limit=101", "limit"},
		{"q=x&cursor=zzz", "cursor"},
		{"q=x&cursor=eyJvIjoiYWN0aXZpdHkiLCJrIjoiMjAyNi0xMS0yNlQwMDowMDowMFoiLCJhIjoiMDE5MDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAxIn0", "cursor"}, // an activity cursor
	} {
		res := servicetest.Do(t, x.h, servicetest.Request{Method: "GET", Path: "/v1/search?" + tc.query, Bearer: tok})
		code := "validation_failed"
		if tc.field == "cursor" {
			code = "invalid_cursor"
		}
		servicetest.ExpectProblem(t, res, 422, code)
		if !strings.Contains(res.Raw, `"field":"`+tc.field+`"`) {
			t.Errorf("?%s: %s, want the field %s", tc.query, res.Raw, tc.field)
		}
	}
}

func TestInsightRoutesPermissions(t *testing.T) {
	t.Parallel()
	x := newInsightRoutes(t)
	p := x.f.Member(t, "viewer")
	forged := x.f.Token(t, token.Principal{IdentityID: p.IdentityID, TenantID: p.TenantID, Role: "superuser"})
	for _, path := range []string{"/v1/search?q=x", "/v1/dashboard"} {
		servicetest.ExpectProblem(t, servicetest.Do(t, x.h, servicetest.Request{Method: "GET", Path: path}), 401, "unauthenticated")
		servicetest.ExpectProblem(t, servicetest.Do(t, x.h, servicetest.Request{Method: "GET", Path: path, Bearer: "not-a-token"}), 401, "invalid_token")
		servicetest.ExpectProblem(t, servicetest.Do(t, x.h, servicetest.Request{Method: "GET", Path: path, Bearer: forged}), 403, "forbidden")
	}
}

// TestSearchRouteAnotherTenantSeesNothing: tenant B's token finds none of A's things by their words.
func TestSearchRouteAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	x := newInsightRoutes(t)
	a, b := x.f.Member(t, "owner"), x.f.Member(t, "owner")
	p, err := x.projects.Create(t.Context(), a.TenantID, a.IdentityID, work.ProjectInput{Name: "Secret merger", Description: "Acquisition of Globex"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.tasks.Create(t.Context(), a.TenantID, a.IdentityID, p.ID, work.TaskInput{Title: "Merger paperwork"}); err != nil {
		t.Fatal(err)
	}
	bt := x.f.Token(t, b)
	for _, q := range []string{"merger", "secret", "globex", "acquisition", "merg", p.ID.String()} {
		if res := x.get(t, bt, "/v1/search?q="+url.QueryEscape(q), 200); len(res.Items()) != 0 {
			t.Errorf("B finds %s with q=%s", res.Raw, q)
		}
	}
	if res := x.get(t, x.f.Token(t, a), "/v1/search?q=merger", 200); len(res.Items()) != 2 {
		t.Errorf("A's search: %s", res.Raw)
	}
}
