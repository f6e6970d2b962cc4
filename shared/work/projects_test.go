package work_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid/validtest"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// orgMember adds a new identity to organization tenant with role, creating the organization on first use.
// Fixture rows are written as the owner.
func orgMember(t testing.TB, d *dbtest.Database, tenant uuid.UUID, role string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, 'Fixture') ON CONFLICT (id) DO NOTHING`, []any{tenant, "t-" + tenant.String()[24:]}},
		{`INSERT INTO directory.identities (id, email) VALUES ($1, $2)`, []any{id, id.String() + "@fixture.test"}},
		{`INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, $3)`, []any{tenant, id, role}},
	} {
		if _, err := d.Owner.Exec(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatalf("fixture member: %v", err)
		}
	}
	return id
}

// strs returns a column of strings read as the owner.
func strs(t testing.TB, d *dbtest.Database, sql string, args ...any) []string {
	t.Helper()
	rows, err := d.Owner.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func query(t testing.TB, raw string) work.ProjectQuery {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := work.ParseProjectQuery(v, testCursors)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return q
}

func TestProjectLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	tenant, actor := uuid.New(), uuid.New()

	p, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "  Apollo  ", Description: "moon"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if p.Name != "Apollo" || p.CreatedBy != actor || p.ID.Version() != 7 || p.Status != work.ProjectActive || p.Archived || p.ArchivedAt != nil {
		t.Fatalf("created %+v; want trimmed name, actor as creator, a UUIDv7 id, active and not archived", p)
	}
	got, err := s.Get(ctx, tenant, p.ID)
	if err != nil || got != p {
		t.Fatalf("get = %+v, %v; want %+v", got, err, p)
	}
	up, err := s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "Artemis", Description: "moon"})
	if err != nil || up.Name != "Artemis" || !up.UpdatedAt.After(p.UpdatedAt) && !up.UpdatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("update = %+v, %v", up, err)
	}
	if _, err := s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "Artemis", Description: "moon"}); err != nil {
		t.Fatalf("no-op update: %v", err)
	}
	if err := s.Delete(ctx, tenant, actor, "member", p.ID); err != nil {
		t.Fatalf("delete by the creator (project owner): %v", err)
	}
	if _, err := s.Get(ctx, tenant, p.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("get after delete: %v, want not found", err)
	}
	if err := s.Delete(ctx, tenant, actor, "owner", p.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("second delete: %v, want not found", err)
	}
	if _, err := s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "x"}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("update after delete: %v, want not found", err)
	}
	list, err := s.List(ctx, tenant, query(t, ""))
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("list after delete: %+v, %v; want empty", list, err)
	}
	r, err := s.Restore(ctx, tenant, actor, "member", p.ID)
	if err != nil || r.Name != "Artemis" {
		t.Fatalf("restore = %+v, %v", r, err)
	}
	if _, err := s.Get(ctx, tenant, p.ID); err != nil {
		t.Fatalf("get after restore: %v", err)
	}

	// Each write left one activity row and one outbox event in its transaction; the no-op update left none.
	if actions := strings.Join(strs(t, d, `SELECT action FROM tenant.activity WHERE tenant_id = $1 AND entity_id = $2 ORDER BY id`, tenant, p.ID), ","); actions != "created,updated,deleted,restored" {
		t.Fatalf("activity = %v, want created,updated,deleted,restored", actions)
	}
	if changes := strs(t, d, `SELECT changes::text FROM tenant.activity WHERE tenant_id = $1 AND action = 'updated'`, tenant); len(changes) != 1 || changes[0] != `{"name": {"new": "Artemis", "old": "Apollo"}}` {
		t.Fatalf("update changes = %s, want only the name's old and new value", changes)
	}
	if types := strings.Join(strs(t, d, `SELECT type FROM tenant.outbox WHERE tenant_id = $1 ORDER BY id`, tenant), ","); types != "project.created,project.updated,project.deleted,project.restored" {
		t.Fatalf("outbox = %s", types)
	}
	if owners := strs(t, d, `SELECT identity_id::text || ':' || role FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2`, tenant, p.ID); len(owners) != 1 || owners[0] != actor.String()+":owner" {
		t.Fatalf("project members after create = %v, want the creator as owner", owners)
	}
}

func TestProjectStatusAndArchive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	tenant, actor := uuid.New(), uuid.New()

	p, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "held", Status: ptr(work.ProjectOnHold)})
	if err != nil || p.Status != work.ProjectOnHold {
		t.Fatalf("create on hold = %+v, %v", p, err)
	}
	// Absent status and archived keep the current values.
	p, err = s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "held", Description: "d"})
	if err != nil || p.Status != work.ProjectOnHold || p.Archived {
		t.Fatalf("update without status = %+v, %v", p, err)
	}
	p, err = s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "held", Description: "d", Status: ptr(work.ProjectCompleted), Archived: ptr(true)})
	if err != nil || p.Status != work.ProjectCompleted || !p.Archived || p.ArchivedAt == nil {
		t.Fatalf("complete and archive = %+v, %v", p, err)
	}
	archivedAt := *p.ArchivedAt
	p, err = s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "renamed", Description: "d", Archived: ptr(true)})
	if err != nil || !p.ArchivedAt.Equal(archivedAt) {
		t.Fatalf("archiving again moved archived_at: %+v, %v", p, err)
	}
	if changes := strs(t, d, `SELECT changes::text FROM tenant.activity WHERE tenant_id = $1 AND action = 'updated' ORDER BY id`, tenant); len(changes) != 3 ||
		changes[1] != `{"status": {"new": "completed", "old": "on_hold"}, "archived": {"new": true, "old": false}}` {
		t.Fatalf("update trail = %v", changes)
	}
	if data := strs(t, d, `SELECT data->>'changed' FROM tenant.outbox WHERE tenant_id = $1 AND type = 'project.updated' ORDER BY id`, tenant); len(data) != 3 || data[1] != `["status", "archived"]` {
		t.Fatalf("update events = %v", data)
	}

	other, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "live"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  []uuid.UUID
	}{
		{"", []uuid.UUID{other.ID}},
		{"archived=false", []uuid.UUID{other.ID}},
		{"archived=true", []uuid.UUID{p.ID}},
		{"archived=true&status=completed", []uuid.UUID{p.ID}},
		{"archived=true&status=active", nil},
		{"status=active", []uuid.UUID{other.ID}},
		{"status=on_hold", nil},
	} {
		l, err := s.List(ctx, tenant, query(t, tc.query))
		if err != nil {
			t.Fatal(err)
		}
		var ids []uuid.UUID
		for _, it := range l.Items {
			ids = append(ids, it.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("list ?%s = %v, want %v", tc.query, ids, tc.want)
		}
	}
	// Unarchiving clears archived_at; the project is listed again.
	p, err = s.Update(ctx, tenant, actor, p.ID, work.ProjectInput{Name: "renamed", Description: "d", Archived: ptr(false)})
	if err != nil || p.Archived || p.ArchivedAt != nil {
		t.Fatalf("unarchive = %+v, %v", p, err)
	}
	if l, err := s.List(ctx, tenant, query(t, "")); err != nil || len(l.Items) != 2 {
		t.Fatalf("after unarchive: %d listed, %v", len(l.Items), err)
	}
}

func TestProjectSearchAndMemberFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	m := work.NewProjectMembers(d.DB)
	tenant := uuid.New()
	owner := orgMember(t, d, tenant, "owner")
	joiner := orgMember(t, d, tenant, "member")
	byName := map[string]uuid.UUID{}
	for _, name := range []string{"Moon Landing", "moonshot", "Mars 100%", "Mars_rover", "Venus", "Café Noir", "Saturn"} {
		p, err := s.Create(ctx, tenant, owner, work.ProjectInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		byName[name] = p.ID
	}
	if _, err := m.Add(ctx, tenant, owner, "owner", byName["Venus"], work.ProjectMemberInput{IdentityID: joiner.String(), Role: "member"}); err != nil {
		t.Fatal(err)
	}
	// A rename replaces the name's search rows: the old name is no longer found.
	if _, err := s.Update(ctx, tenant, owner, byName["Saturn"], work.ProjectInput{Name: "Jupiter"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"q=moon&order=name", []string{"Moon Landing", "moonshot"}},
		{"q=MOON&order=-name", []string{"moonshot", "Moon Landing"}},
		{"q=" + url.QueryEscape("100%"), []string{"Mars 100%"}},
		{"q=" + url.QueryEscape("%"), []string{"Mars 100%"}},
		{"q=s_r", []string{"Mars_rover"}},
		{"q=zzz", nil},
		{"q=saturn", nil},
		{"q=PITE", []string{"Jupiter"}},
		{"q=" + url.QueryEscape("FÉ n"), []string{"Café Noir"}},
		{"q=" + url.QueryEscape("on land"), []string{"Moon Landing"}},
		{"q=" + url.QueryEscape("landing moon"), nil},
		{"q=" + url.QueryEscape("n"), []string{"Café Noir", "Venus", "moonshot", "Moon Landing"}},
		{"member=" + joiner.String(), []string{"Venus"}},
		{"member=" + owner.String() + "&q=mars&order=name", []string{"Mars 100%", "Mars_rover"}},
		{"member=" + uuid.NewString(), nil},
	} {
		l, err := s.List(ctx, tenant, query(t, tc.query))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, it := range l.Items {
			names = append(names, it.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("list ?%s = %q, want %q", tc.query, names, tc.want)
		}
	}
}

func TestProjectValidation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	tests := []struct {
		name   string
		in     work.ProjectInput
		fields []string
	}{
		{"empty name", work.ProjectInput{Name: "   "}, []string{"name"}},
		{"long name", work.ProjectInput{Name: strings.Repeat("é", work.MaxNameLength+1)}, []string{"name"}},
		{"long description", work.ProjectInput{Name: "ok", Description: strings.Repeat("x", work.MaxDescriptionLength+1)}, []string{"description"}},
		{"NUL in both", work.ProjectInput{Name: "a\x00", Description: "\x00"}, []string{"name", "description"}},
		{"bad status", work.ProjectInput{Name: "ok", Status: ptr("done")}, []string{"status"}},
		{"empty status", work.ProjectInput{Name: "ok", Status: ptr("")}, []string{"status"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Create(context.Background(), uuid.New(), uuid.New(), tc.in)
			if got := validtest.Fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("failing fields = %v (%v), want %v", got, err, tc.fields)
			}
		})
	}
	var n int
	if err := d.Owner.QueryRow(context.Background(), `SELECT count(*) FROM tenant.projects`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d projects stored by invalid requests", n)
	}
}

func TestParseProjectQuery(t *testing.T) {
	t.Parallel()
	after := uuid.MustParse("01900000-0000-7000-8000-000000000001")
	byName := work.ProjectCursor(testCursors, url.Values{"order": {"name"}}, "name", "a", after)
	unsigned := "eyJvIjoibmFtZSIsImsiOiJhIiwiYSI6IjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMSJ9" // {"o":"name","k":"a","a":...}, as cursors were
	payload, _, _ := strings.Cut(byName, ".")
	tampered := base64.RawURLEncoding.EncodeToString([]byte(`{"o":"name","k":"b","a":"`+after.String()+`"}`)) + byName[len(payload):]
	badTime := work.ProjectCursor(testCursors, url.Values{"order": {"updated"}}, "updated", "x", after)
	tests := []struct {
		query  string
		fields []string
	}{
		{"", nil},
		{"status=active&archived=true&member=" + uuid.NewString() + "&q=x&order=-updated&limit=100", nil},
		{"order=name&cursor=" + byName, nil},
		{"status=done", []string{"status"}},
		{"archived=yes", []string{"archived"}},
		{"archived=1", []string{"archived"}},
		{"member=alice", []string{"member"}},
		{"member=00000000-0000-0000-0000-000000000000", []string{"member"}},
		{"q=" + strings.Repeat("q", work.MaxProjectSearchLength+1), []string{"q"}},
		{"q=%00", []string{"q"}},
		{"order=priority", []string{"order"}},
		{"order=--name", []string{"order"}},
		{"limit=0", []string{"limit"}},
		{"cursor=zzz", []string{"cursor"}},
		{"cursor=" + byName, []string{"cursor"}},                          // issued for name, used with the default order
		{"order=-name&cursor=" + byName, []string{"cursor"}},              // the other direction is another ordering
		{"order=name&status=active&cursor=" + byName, []string{"cursor"}}, // issued without the filter
		{"order=name&archived=true&cursor=" + byName, []string{"cursor"}}, // issued for the live list
		{"order=name&q=a&cursor=" + byName, []string{"cursor"}},           // issued for no search
		{"order=name&cursor=" + unsigned, []string{"cursor"}},             // the unsigned form of before
		{"order=name&cursor=" + tampered, []string{"cursor"}},             // payload changed under its signature
		{"order=name&cursor=" + byName + "x", []string{"cursor"}},         // signature changed
		{"order=updated&cursor=" + badTime, []string{"cursor"}},           // signed, but its key is not a time
		{"order=name&cursor=" + work.ProjectCursor(nil, url.Values{"order": {"name"}}, "name", "a", after), []string{"cursor"}}, // another key
		{"status=x&order=y&limit=500&archived=z", []string{"limit", "status", "archived", "order"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = work.ParseProjectQuery(v, testCursors)
			if got := validtest.Fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("failing fields = %v (%v), want %v", got, err, tc.fields)
			}
		})
	}
}

// projectsFixture is tenant A's project (with a member), its deleted and its archived project, and the owner,
// a project member and an organization member outside the project of each tenant.
type projectsFixture struct {
	isolation.Tenants
	s                      *work.Projects
	m                      *work.ProjectMembers
	tenants                *db.Tenants
	trail                  *work.ActivityTrail
	owner, member, outside [2]uuid.UUID
	p, gone, archived      work.Project
}

// The project, membership and activity stores show tenant B nothing of A's projects: every method run as B
// on A's project, through both walls of the isolation suite.
var _ = isolation.Register(isolation.Case[*projectsFixture]{
	Name:   "projects, project members and the activity trail",
	Stores: []string{"Projects", "ProjectMembers", "ActivityTrail"},
	Tables: []string{"tenant.projects", "tenant.project_members", "tenant.project_name_suffixes", "tenant.activity"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *projectsFixture {
		ctx := context.Background()
		f := &projectsFixture{Tenants: isolation.NewTenants(), s: work.NewProjects(w.DB), m: work.NewProjectMembers(w.DB), tenants: w.DB.Tenants,
			trail: work.NewActivityTrail(w.DB)}
		for _, side := range []isolation.Side{isolation.A, isolation.B} {
			f.owner[side] = orgMember(t, d, f.Tenant(side), "owner")
			f.member[side] = orgMember(t, d, f.Tenant(side), "member")
			f.outside[side] = orgMember(t, d, f.Tenant(side), "member")
		}
		a, actor := f.Tenant(isolation.A), f.owner[isolation.A]
		var err error
		if f.p, err = f.s.Create(ctx, a, actor, work.ProjectInput{Name: "A's secret"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.Add(ctx, a, actor, "owner", f.p.ID, work.ProjectMemberInput{IdentityID: f.member[isolation.A].String(), Role: "member"}); err != nil {
			t.Fatal(err)
		}
		if f.gone, err = f.s.Create(ctx, a, actor, work.ProjectInput{Name: "A's deleted"}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Delete(ctx, a, actor, "owner", f.gone.ID); err != nil {
			t.Fatal(err)
		}
		if f.archived, err = f.s.Create(ctx, a, actor, work.ProjectInput{Name: "A's archived secret", Archived: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		return f
	},
	Ops: append([]isolation.Op[*projectsFixture]{
		{Name: "get", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Get(ctx, f.Tenant(as), f.p.ID)
			return isolation.One(err)
		}},
		{Name: "update", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Update(ctx, f.Tenant(as), f.owner[as], f.p.ID, work.ProjectInput{Name: "taken"})
			return isolation.One(err)
		}},
		{Name: "delete", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			return isolation.One(f.s.Delete(ctx, f.Tenant(as), f.owner[as], "owner", f.p.ID))
		}},
		{Name: "restore", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Restore(ctx, f.Tenant(as), f.owner[as], "owner", f.gone.ID)
			return isolation.One(err)
		}},
		{Name: "project access", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			var ok bool
			err := f.tenants.InTenant(ctx, f.Tenant(as), func(tx pgx.Tx) (err error) {
				ok, err = work.ProjectAccess(ctx, tx, f.Tenant(as), f.p.ID, f.owner[as], "owner")
				return err
			})
			if err != nil || !ok {
				return 0, err
			}
			return 1, nil
		}},
		{Name: "list members", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			l, err := f.m.List(ctx, f.Tenant(as), f.p.ID, page.Request{Limit: 10})
			return isolation.Len(l.Items, err)
		}},
		{Name: "add member", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			_, err := f.m.Add(ctx, f.Tenant(as), f.owner[as], "owner", f.p.ID, work.ProjectMemberInput{IdentityID: f.outside[as].String(), Role: "member"})
			return isolation.One(err)
		}},
		// B names A's project member; A, for its control, its own organization member outside the project.
		{Name: "add A's member", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			id := map[isolation.Side]uuid.UUID{isolation.A: f.outside[isolation.A], isolation.B: f.member[isolation.A]}[as]
			_, err := f.m.Add(ctx, f.Tenant(as), f.owner[as], "owner", f.p.ID, work.ProjectMemberInput{IdentityID: id.String(), Role: "member"})
			return isolation.One(err)
		}},
		{Name: "set role", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			_, err := f.m.SetRole(ctx, f.Tenant(as), f.owner[as], "owner", f.p.ID, f.member[isolation.A], work.ProjectRoleInput{Role: "member"})
			return isolation.One(err)
		}},
		{Name: "set role to admin", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			_, err := f.m.SetRole(ctx, f.Tenant(as), f.owner[as], "owner", f.p.ID, f.member[isolation.A], work.ProjectRoleInput{Role: "admin"})
			return isolation.One(err)
		}},
		{Name: "remove member", Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
			return isolation.One(f.m.Remove(ctx, f.Tenant(as), f.owner[as], "owner", f.p.ID, f.member[isolation.A]))
		}},
	}, append(projectListOps(), activityListOps()...)...),
	Check: func(t *testing.T, d *dbtest.Database, f *projectsFixture) {
		ctx, a := context.Background(), f.Tenant(isolation.A)
		if still, err := f.s.Get(ctx, a, f.p.ID); err != nil || still.Name != "A's secret" {
			t.Errorf("A's project after B's attempt: %+v, %v", still, err)
		}
		if members, err := f.m.List(ctx, a, f.p.ID, page.Request{Limit: 10}); err != nil || len(members.Items) != 2 {
			t.Errorf("A's members after B's attempt: %+v, %v", members, err)
		}
		if _, err := f.s.Get(ctx, a, f.gone.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("A's deleted project came back: %v", err)
		}
	},
})

// projectListOps are B's project lists with every filter and ordering, each naming A's things where it can.
func projectListOps() []isolation.Op[*projectsFixture] {
	var ops []isolation.Op[*projectsFixture]
	for _, raw := range []string{"", "archived=true", "q=secret", "member=", "order=name", "order=-updated"} {
		ops = append(ops, isolation.Op[*projectsFixture]{Name: "list ?" + raw, Want: isolation.Nothing,
			Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
				q := raw
				if q == "member=" {
					q += f.owner[isolation.A].String()
				}
				v, err := url.ParseQuery(q)
				if err != nil {
					return 0, err
				}
				pq, err := work.ParseProjectQuery(v, testCursors)
				if err != nil {
					return 0, err
				}
				l, err := f.s.List(ctx, f.Tenant(as), pq)
				return isolation.Len(l.Items, err)
			}})
	}
	return ops
}

// activityListOps are B's reads of the activity trail, filtered by A's project, A's actor and entity type.
func activityListOps() []isolation.Op[*projectsFixture] {
	var ops []isolation.Op[*projectsFixture]
	for _, raw := range []string{"", "entity_id=", "actor=", "entity_type=project"} {
		ops = append(ops, isolation.Op[*projectsFixture]{Name: "activity ?" + raw, Want: isolation.Nothing,
			Run: func(ctx context.Context, f *projectsFixture, as isolation.Side) (int, error) {
				q := raw
				switch q {
				case "entity_id=":
					q += f.p.ID.String()
				case "actor=":
					q += f.owner[isolation.A].String()
				}
				v, err := url.ParseQuery(q)
				if err != nil {
					return 0, err
				}
				aq, err := work.ParseActivityQuery(v, testCursors)
				if err != nil {
					return 0, err
				}
				l, err := f.trail.List(ctx, f.Tenant(as), aq)
				return isolation.Len(l.Items, err)
			}})
	}
	return ops
}

// walkProjects lists every page of q, creating a project between pages, and returns the ids in the order
// seen.
func walkProjects(t *testing.T, s *work.Projects, tenant, actor uuid.UUID, raw string, between func(i int)) []work.Project {
	t.Helper()
	ctx := context.Background()
	var seen []work.Project
	q := query(t, raw)
	for i := 0; ; i++ {
		pg, err := s.List(ctx, tenant, q)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, pg.Items...)
		between(i)
		if pg.NextCursor == nil {
			return seen
		}
		q = query(t, raw+"&cursor="+*pg.NextCursor)
		if i > 100 {
			t.Fatal("pagination does not end")
		}
	}
}

// TestListPaginatesEveryRowOnce inserts rows between page reads, for every ordering: every row that existed
// when the walk began is seen exactly once, no row is seen twice, and the pages come in the ordering's order.
// Names repeat (in both cases), so ties on the sort key are broken by id.
func TestListPaginatesEveryRowOnce(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"-created", "created", "name", "-name", "updated", "-updated"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := dbtest.New(t)
			s := work.NewProjects(d.DB)
			tenant, actor := uuid.New(), uuid.New()
			names := []string{"alpha", "Beta", "beta", "gamma", "Delta", "epsilon"}
			want := map[uuid.UUID]bool{}
			for i := 0; i < 23; i++ {
				p, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: names[i%len(names)]})
				if err != nil {
					t.Fatal(err)
				}
				want[p.ID] = true
			}
			// A project of another status and an archived one are filtered out of the walk.
			if _, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: "alpha", Archived: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			seen := walkProjects(t, s, tenant, actor, "limit=5&order="+order, func(i int) {
				name := names[rand.IntN(len(names))] + fmt.Sprint(i)
				if _, err := s.Create(ctx, tenant, actor, work.ProjectInput{Name: name}); err != nil {
					t.Fatal(err)
				}
			})
			count := map[uuid.UUID]int{}
			for _, p := range seen {
				count[p.ID]++
			}
			for id := range want {
				if count[id] != 1 {
					t.Errorf("project %s seen %d times, want once", id, count[id])
				}
			}
			for id, n := range count {
				if n != 1 {
					t.Errorf("project %s seen %d times (pre-existing %v)", id, n, want[id])
				}
			}
			sorted := slices.IsSortedFunc(seen, func(x, y work.Project) int {
				var c int
				switch strings.TrimPrefix(order, "-") {
				case "name":
					c = strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
				case "updated":
					c = x.UpdatedAt.Compare(y.UpdatedAt)
				}
				if c == 0 {
					c = strings.Compare(x.ID.String(), y.ID.String())
				}
				if strings.HasPrefix(order, "-") {
					c = -c
				}
				return c
			})
			if !sorted {
				t.Errorf("walk by %s is out of order", order)
			}
		})
	}
}

func TestProjectRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	m := work.NewProjectMembers(d.DB)
	tenant := uuid.New()
	owner := orgMember(t, d, tenant, "member")
	admin := orgMember(t, d, tenant, "admin")
	outsider := orgMember(t, d, tenant, "member")
	projectAdmin := orgMember(t, d, tenant, "member")

	create := func(name string) uuid.UUID {
		p, err := s.Create(ctx, tenant, owner, work.ProjectInput{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	deleteAgo := func(id uuid.UUID, days int) {
		if err := s.Delete(ctx, tenant, owner, "member", id); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Owner.Exec(ctx, `UPDATE tenant.projects SET deleted_at = now() - make_interval(days => $2) WHERE id = $1`, id, days); err != nil {
			t.Fatal(err)
		}
	}
	recent, old, live, withAdmin := create("recent"), create("old"), create("live"), create("with admin")
	if _, err := m.Add(ctx, tenant, owner, "member", withAdmin, work.ProjectMemberInput{IdentityID: projectAdmin.String(), Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	deleteAgo(recent, 29)
	deleteAgo(old, 31)
	deleteAgo(withAdmin, 0)

	// Deleting and restoring take a manager of the project: an organization member outside it may not.
	if err := s.Delete(ctx, tenant, outsider, "member", live); !errors.Is(err, work.ErrProjectForbidden) {
		t.Fatalf("outsider deletes: %v, want forbidden", err)
	}
	tests := []struct {
		name    string
		actor   uuid.UUID
		orgRole string
		id      uuid.UUID
		want    error
	}{
		{"outsider", outsider, "member", recent, work.ErrProjectForbidden},
		{"organization admin within 30 days", admin, "admin", recent, nil},
		{"after 30 days", owner, "member", old, work.ErrRestoreWindowPassed},
		{"live project", owner, "member", live, work.ErrProjectNotDeleted},
		{"unknown project", owner, "owner", uuid.New(), db.ErrNotFound},
		{"project admin", projectAdmin, "member", withAdmin, nil},
	}
	for _, tc := range tests {
		p, err := s.Restore(ctx, tenant, tc.actor, tc.orgRole, tc.id)
		if !errors.Is(err, tc.want) || (tc.want == nil && p.ID != tc.id) {
			t.Errorf("%s: restore = %+v, %v; want %v", tc.name, p.ID, err, tc.want)
		}
	}
	if _, err := s.Get(ctx, tenant, recent); err != nil {
		t.Fatalf("restored project: %v", err)
	}
	if _, err := s.Get(ctx, tenant, old); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("expired project is back: %v", err)
	}
	if n := len(strs(t, d, `SELECT id::text FROM tenant.outbox WHERE tenant_id = $1 AND type = 'project.restored'`, tenant)); n != 2 {
		t.Fatalf("%d project.restored events, want 2", n)
	}
}

func TestProjectMembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	m := work.NewProjectMembers(d.DB)
	tenant := uuid.New()
	creator := orgMember(t, d, tenant, "member")
	orgAdmin := orgMember(t, d, tenant, "admin")
	alice := orgMember(t, d, tenant, "member")
	bob := orgMember(t, d, tenant, "member")
	carol := orgMember(t, d, tenant, "member")
	viewer := orgMember(t, d, tenant, "viewer")
	stranger := orgMember(t, d, uuid.New(), "owner") // a member of another organization only
	p, err := s.Create(ctx, tenant, creator, work.ProjectInput{Name: "team"})
	if err != nil {
		t.Fatal(err)
	}
	add := func(actor uuid.UUID, orgRole string, who uuid.UUID, role string) error {
		_, err := m.Add(ctx, tenant, actor, orgRole, p.ID, work.ProjectMemberInput{IdentityID: who.String(), Role: role})
		return err
	}
	setRole := func(actor uuid.UUID, orgRole string, who uuid.UUID, role string) error {
		_, err := m.SetRole(ctx, tenant, actor, orgRole, p.ID, who, work.ProjectRoleInput{Role: role})
		return err
	}
	steps := []struct {
		name   string
		call   func() error
		want   error
		fields []string
	}{
		{"bad input", func() error { return add(creator, "member", uuid.Nil, "boss") }, nil, []string{"identity_id", "role"}},
		{"identity not a uuid", func() error {
			_, err := m.Add(ctx, tenant, creator, "member", p.ID, work.ProjectMemberInput{IdentityID: "alice", Role: "member"})
			return err
		}, nil, []string{"identity_id"}},
		{"outside the organization", func() error { return add(creator, "member", stranger, "member") }, nil, []string{"identity_id"}},
		{"viewer as admin", func() error { return add(creator, "member", viewer, "admin") }, nil, []string{"role"}},
		{"viewer as owner", func() error { return add(creator, "member", viewer, "owner") }, nil, []string{"role"}},
		{"non-manager adds", func() error { return add(alice, "member", bob, "member") }, work.ErrProjectForbidden, nil},
		{"project owner adds an admin", func() error { return add(creator, "member", alice, "admin") }, nil, nil},
		{"again", func() error { return add(creator, "member", alice, "member") }, work.ErrAlreadyProjectMember, nil},
		{"project admin adds a member", func() error { return add(alice, "member", bob, "member") }, nil, nil},
		{"project admin may not add an owner", func() error { return add(alice, "member", carol, "owner") }, work.ErrProjectForbidden, nil},
		{"viewer as member", func() error { return add(alice, "member", viewer, "member") }, nil, nil},
		{"project admin may not make an owner", func() error { return setRole(alice, "member", bob, "owner") }, work.ErrProjectForbidden, nil},
		{"project admin may not demote an owner", func() error { return setRole(alice, "member", creator, "member") }, work.ErrProjectForbidden, nil},
		{"plain member may not change roles", func() error { return setRole(bob, "member", viewer, "member") }, work.ErrProjectForbidden, nil},
		{"viewer may not become admin", func() error { return setRole(creator, "member", viewer, "admin") }, nil, []string{"role"}},
		{"unknown member", func() error { return setRole(creator, "member", uuid.New(), "admin") }, db.ErrNotFound, nil},
		{"unknown member as plain member", func() error { return setRole(creator, "member", uuid.New(), "member") }, db.ErrNotFound, nil},
		{"last owner cannot be demoted", func() error { return setRole(creator, "member", creator, "admin") }, work.ErrLastProjectOwner, nil},
		{"last owner cannot be removed", func() error { return m.Remove(ctx, tenant, orgAdmin, "admin", p.ID, creator) }, work.ErrLastProjectOwner, nil},
		{"last owner cannot leave", func() error { return m.Remove(ctx, tenant, creator, "member", p.ID, creator) }, work.ErrLastProjectOwner, nil},
		{"organization admin makes an owner", func() error { return setRole(orgAdmin, "admin", bob, "owner") }, nil, nil},
		{"same role again is a no-op", func() error { return setRole(orgAdmin, "admin", bob, "owner") }, nil, nil},
		{"project admin may not remove an owner", func() error { return m.Remove(ctx, tenant, alice, "member", p.ID, bob) }, work.ErrProjectForbidden, nil},
		{"plain member may not remove others", func() error { return m.Remove(ctx, tenant, viewer, "viewer", p.ID, alice) }, work.ErrProjectForbidden, nil},
		{"a member leaves", func() error { return m.Remove(ctx, tenant, viewer, "viewer", p.ID, viewer) }, nil, nil},
		{"now the creator may step down", func() error { return setRole(creator, "member", creator, "member") }, nil, nil},
		{"project admin removes a member", func() error { return m.Remove(ctx, tenant, alice, "member", p.ID, creator) }, nil, nil},
		{"removed twice", func() error { return m.Remove(ctx, tenant, alice, "member", p.ID, creator) }, db.ErrNotFound, nil},
	}
	for _, st := range steps {
		err := st.call()
		switch {
		case st.fields != nil:
			if got := validtest.Fields(err); !slices.Equal(got, st.fields) {
				t.Fatalf("%s: %v, want failing fields %v", st.name, err, st.fields)
			}
		case !errors.Is(err, st.want) || (st.want == nil && err != nil):
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	// What is left: alice (admin) and bob (owner), listed by identity id across pages.
	var got []string
	req := page.Request{Limit: 1}
	for {
		pg, err := m.List(ctx, tenant, p.ID, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pg.Items {
			got = append(got, it.IdentityID.String()+":"+it.Role)
		}
		if pg.NextCursor == nil {
			break
		}
		if req, err = page.Parse(url.Values{"cursor": {*pg.NextCursor}, "limit": {"1"}}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{alice.String() + ":admin", bob.String() + ":owner"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("members = %v, want %v", got, want)
	}
	wantTrail := "member_added,member_added,member_added,member_role_changed,member_removed,member_role_changed,member_removed"
	if trail := strings.Join(strs(t, d, `SELECT action FROM tenant.activity WHERE tenant_id = $1 AND entity_id = $2 AND action LIKE 'member%' ORDER BY id`, tenant, p.ID), ","); trail != wantTrail {
		t.Fatalf("trail = %s, want %s", trail, wantTrail)
	}
	wantEvents := "project.member_added,project.member_added,project.member_added,project.member_role_changed,project.member_removed,project.member_role_changed,project.member_removed"
	if types := strings.Join(strs(t, d, `SELECT type FROM tenant.outbox WHERE tenant_id = $1 AND type LIKE 'project.member%' ORDER BY id`, tenant), ","); types != wantEvents {
		t.Fatalf("events = %s, want %s", types, wantEvents)
	}
	// Members of a deleted project are out of reach until it is restored.
	if err := s.Delete(ctx, tenant, bob, "member", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.List(ctx, tenant, p.ID, page.Request{Limit: 10}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("members of a deleted project: %v", err)
	}
	if err := add(orgAdmin, "admin", creator, "member"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("add to a deleted project: %v", err)
	}
}

func TestProjectAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewProjects(d.DB)
	m := work.NewProjectMembers(d.DB)
	tenant := uuid.New()
	creator := orgMember(t, d, tenant, "member")
	teamViewer := orgMember(t, d, tenant, "viewer")
	outsider := uuid.New()
	team, err := s.Create(ctx, tenant, creator, work.ProjectInput{Name: "team"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, tenant, creator, "member", team.ID, work.ProjectMemberInput{IdentityID: teamViewer.String(), Role: "member"}); err != nil {
		t.Fatal(err)
	}
	open, err := s.Create(ctx, tenant, uuid.Nil, work.ProjectInput{Name: "no members"}) // made by the platform: no owner
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		project  uuid.UUID
		identity uuid.UUID
		orgRole  string
		want     bool
	}{
		{"organization owner outside the team", team.ID, outsider, "owner", true},
		{"organization admin outside the team", team.ID, outsider, "admin", true},
		{"organization member outside the team", team.ID, outsider, "member", false},
		{"team member", team.ID, creator, "member", true},
		{"viewer on the team", team.ID, teamViewer, "viewer", true},
		{"no longer in the organization", team.ID, creator, "", false},
		{"open project, member", open.ID, outsider, "member", true},
		{"open project, viewer", open.ID, outsider, "viewer", false},
		{"open project, unknown role", open.ID, outsider, "superuser", false},
	}
	canAccess := func(project, identity uuid.UUID, orgRole string) (ok bool, err error) {
		err = d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) (err error) {
			ok, err = work.ProjectAccess(ctx, tx, tenant, project, identity, orgRole)
			return err
		})
		return ok, err
	}
	for _, tc := range tests {
		got, err := canAccess(tc.project, tc.identity, tc.orgRole)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := canAccess(uuid.New(), creator, "owner"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown project: %v", err)
	}
	role, err := work.OrganizationRole(ctx, d.DB.Directory, tenant, teamViewer)
	if err != nil || role != "viewer" {
		t.Fatalf("organization role = %q, %v", role, err)
	}
	if _, err := work.OrganizationRole(ctx, d.DB.Directory, uuid.New(), teamViewer); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("organization role in another organization: %v", err)
	}
}
