package tasks

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// activityRoutes is GET /v1/activity over a private database, with the project store to write a trail.
func activityRoutes(t *testing.T) (http.Handler, *servicetest.Fixture, *work.Projects) {
	t.Helper()
	f := servicetest.New(t)
	mux := f.Env.Mux()
	registerActivity(f.Env, mux)
	return f.Env.Handler(mux), f, work.NewProjects(f.Env.DB)
}

func getActivity(t *testing.T, h http.Handler, bearer, query string, status int) servicetest.Response {
	t.Helper()
	return servicetest.Expect(t, servicetest.Do(t, h, servicetest.Request{Method: "GET", Path: "/v1/activity?" + query, Bearer: bearer}), status)
}

func TestActivityRoute(t *testing.T) {
	t.Parallel()
	h, f, projects := activityRoutes(t)
	owner := f.Member(t, "owner")
	other := f.Join(t, owner.TenantID, "member")
	viewer := f.Token(t, f.Join(t, owner.TenantID, "viewer"))
	ctx := t.Context()
	p, err := projects.Create(ctx, owner.TenantID, owner.IdentityID, work.ProjectInput{Name: "one"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := projects.Update(ctx, owner.TenantID, other.IdentityID, p.ID, work.ProjectInput{Name: "uno"}); err != nil {
		t.Fatal(err)
	}
	q, err := projects.Create(ctx, owner.TenantID, other.IdentityID, work.ProjectInput{Name: "two"})
	if err != nil {
		t.Fatal(err)
	}

	// Every role reads the trail, newest first, in the documented shape.
	all := getActivity(t, h, viewer, "", 200)
	items := all.Items()
	if len(items) != 3 || all.Body["next_cursor"] != nil {
		t.Fatalf("trail = %s", all.Raw)
	}
	if items[0]["entity_id"] != q.ID.String() || items[2]["action"] != "created" || items[1]["action"] != "updated" {
		t.Fatalf("trail order = %s", all.Raw)
	}
	for _, key := range []string{"id", "actor_id", "entity_type", "entity_id", "action", "changes", "created_at"} {
		if _, ok := items[1][key]; !ok {
			t.Fatalf("item lacks %s: %v", key, items[1])
		}
	}
	if ch, _ := items[1]["changes"].(map[string]any)["name"].(map[string]any); ch["old"] != "one" || ch["new"] != "uno" || items[1]["actor_id"] != other.IdentityID.String() {
		t.Fatalf("update row = %v", items[1])
	}

	tok := f.Token(t, owner)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"entity_id=" + p.ID.String(), 2},
		{"entity_type=project&entity_id=" + p.ID.String(), 2},
		{"entity_type=task", 0},
		{"actor=" + other.IdentityID.String(), 2},
		{"actor=" + owner.IdentityID.String() + "&entity_id=" + p.ID.String(), 1},
		{"since=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), 3},
		{"until=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), 0},
	} {
		if got := len(getActivity(t, h, tok, tc.query, 200).Items()); got != tc.want {
			t.Errorf("?%s: %d rows, want %d", tc.query, got, tc.want)
		}
	}

	// Pages of one row, each exactly once.
	seen := map[string]bool{}
	query := "limit=1"
	for range 10 {
		res := getActivity(t, h, tok, query, 200)
		for _, it := range res.Items() {
			if seen[it["id"].(string)] {
				t.Fatalf("row %s seen twice", it["id"])
			}
			seen[it["id"].(string)] = true
		}
		next, _ := res.Body["next_cursor"].(string)
		if next == "" {
			break
		}
		query = "limit=1&cursor=" + next
	}
	if len(seen) != 3 {
		t.Fatalf("paged over %d rows, want 3", len(seen))
	}
}

func TestActivityRouteRefusesBadInput(t *testing.T) {
	t.Parallel()
	h, f, _ := activityRoutes(t)
	tok := f.Token(t, f.Member(t, "member"))
	for _, tc := range []struct{ query, field string }{
		{"entity_type=" + url.QueryEscape("DROP TABLE"), "entity_type"},
		{"entity_id=42", "entity_id"},
		{"actor=someone", "actor"},
		{"since=yesterday", "since"},
		{"until=2026-13-01T00:00:00Z", "until"},
		{"since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until"},
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"cursor=zzz", "cursor"},
		{"cursor=eyJvIjoibmFtZSIsImsiOiJhIiwiYSI6IjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMSJ9", "cursor"}, // a project list cursor
	} {
		res := servicetest.Do(t, h, servicetest.Request{Method: "GET", Path: "/v1/activity?" + tc.query, Bearer: tok})
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

func TestActivityRoutePermissions(t *testing.T) {
	t.Parallel()
	h, f, _ := activityRoutes(t)
	p := f.Member(t, "viewer")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, servicetest.Request{Method: "GET", Path: "/v1/activity"}), 401, "unauthenticated")
	forged := f.Token(t, token.Principal{IdentityID: p.IdentityID, TenantID: p.TenantID, Role: "superuser"})
	servicetest.ExpectProblem(t, servicetest.Do(t, h, servicetest.Request{Method: "GET", Path: "/v1/activity", Bearer: forged}), 403, "forbidden")
}

// TestActivityAnotherTenantSeesNothing: tenant B reads none of A's trail, even filtering by A's ids.
func TestActivityAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	h, f, projects := activityRoutes(t)
	a, b := f.Member(t, "owner"), f.Member(t, "owner")
	p, err := projects.Create(t.Context(), a.TenantID, a.IdentityID, work.ProjectInput{Name: "A's"})
	if err != nil {
		t.Fatal(err)
	}
	bt := f.Token(t, b)
	for _, q := range []string{"", "entity_id=" + p.ID.String(), "actor=" + a.IdentityID.String(), "entity_type=project", "entity_id=" + uuid.NewString()} {
		if res := getActivity(t, h, bt, q, 200); len(res.Items()) != 0 {
			t.Fatalf("B reads %s with ?%s", res.Raw, q)
		}
	}
	if res := getActivity(t, h, f.Token(t, a), "entity_id="+p.ID.String(), 200); len(res.Items()) != 1 {
		t.Fatalf("A's trail: %s", res.Raw)
	}
}
