package work

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Project list orderings, as the order parameter names them; a leading "-" sorts descending.
const (
	// ProjectOrderCreated sorts by creation, which is id order (UUIDv7).
	ProjectOrderCreated = "created"
	// ProjectOrderUpdated sorts by the last change. A project changed while a client pages moves, so it may
	// be seen twice or not at all in that walk: the keyset follows the rows' current position.
	ProjectOrderUpdated = "updated"
	// ProjectOrderName sorts case-insensitively by name.
	ProjectOrderName = "name"
)

// DefaultProjectOrder is the ordering of a list that names none: newest first.
const DefaultProjectOrder = "-" + ProjectOrderCreated

// MaxProjectSearchLength bounds the q parameter.
const MaxProjectSearchLength = 200

// ProjectQuery is a parsed GET /v1/projects: filters, ordering and the page.
type ProjectQuery struct {
	// Status keeps projects of one status; "" keeps all.
	Status string
	// Archived lists archived projects instead of the others.
	Archived bool
	// Member keeps projects that identity is a project member of; uuid.Nil keeps all.
	Member uuid.UUID
	// Search keeps projects whose name contains it, ignoring case; "" keeps all.
	Search string
	// Order is a project ordering with an optional "-" prefix; "" means DefaultProjectOrder.
	Order string
	// Limit is the page size.
	Limit int

	after   *projectCursor
	cursors *page.Cursors // signs the next page's cursor; nil in queries built by hand
	scope   string        // the list and its normalised filters, which the cursor is bound to
}

// projectCursor is the content of a project list cursor: the ordering it was issued for, so that it cannot be
// replayed against another, and the last row's sort key and id.
type projectCursor struct {
	Order string    `json:"o"`
	Key   string    `json:"k,omitempty"`
	After uuid.UUID `json:"a"`
}

// ParseProjectQuery reads a project list's query parameters: status, archived, member, q, order, limit and
// cursor, the cursor opened with c for these filters and this ordering. Every bad parameter is reported at
// once, as a valid.Errors naming it.
func ParseProjectQuery(v url.Values, c *page.Cursors) (ProjectQuery, error) {
	q := ProjectQuery{Order: DefaultProjectOrder, cursors: c}
	var errs valid.Errors
	q.Limit = page.ParseLimit(v, &errs)
	if s := v.Get("status"); s != "" {
		q.Status = s
		errs.Check(slices.Contains(ProjectStatuses, s), "status", "must be one of "+strings.Join(ProjectStatuses, ", "))
	}
	switch s := v.Get("archived"); s {
	case "", "false":
	case "true":
		q.Archived = true
	default:
		errs.Add("archived", "must be true or false")
	}
	if s := v.Get("member"); s != "" {
		q.Member = errs.CheckID("member", s)
	}
	if s := strings.TrimSpace(v.Get("q")); s != "" {
		q.Search = s
		errs.Check(utf8.RuneCountInString(s) <= MaxProjectSearchLength, "q", fmt.Sprintf("must be at most %d characters", MaxProjectSearchLength))
		errs.Check(utf8.ValidString(s) && !strings.ContainsRune(s, 0), "q", "must be valid text without NUL characters")
	}
	if s := v.Get("order"); s != "" {
		q.Order = s
		errs.Check(slices.Contains([]string{ProjectOrderCreated, ProjectOrderUpdated, ProjectOrderName}, strings.TrimPrefix(s, "-")),
			"order", "must be name, created or updated, with a leading - for descending")
	}
	q.scope = q.cursorScope()
	if s := v.Get("cursor"); s != "" {
		if cur, ok := decodeProjectCursor(c, q.scope, s); !ok || cur.Order != q.Order {
			errs = append(errs, page.InvalidCursor())
		} else {
			q.after = &cur
		}
	}
	return q, errs.Err()
}

// cursorScope names the list q asks for, for its cursors: the endpoint, its filters and its ordering.
func (q ProjectQuery) cursorScope() string {
	p := url.Values{"order": {q.Order}, "archived": {strconv.FormatBool(q.Archived)}}
	if q.Status != "" {
		p.Set("status", q.Status)
	}
	if q.Member != uuid.Nil {
		p.Set("member", q.Member.String())
	}
	if q.Search != "" {
		p.Set("q", q.Search)
	}
	return page.Scope("GET /v1/projects", p)
}

func decodeProjectCursor(cursors *page.Cursors, scope, s string) (projectCursor, bool) {
	var c projectCursor
	if !cursors.Open(scope, s, &c) || c.After == uuid.Nil || c.Order == "" {
		return c, false
	}
	if strings.TrimPrefix(c.Order, "-") == ProjectOrderUpdated {
		if _, err := time.Parse(time.RFC3339Nano, c.Key); err != nil {
			return c, false
		}
	}
	return c, true
}

func (c projectCursor) encode(cursors *page.Cursors, scope string) string {
	return cursors.Seal(scope, c)
}

// listSQL builds the list query of q. Each ordering walks its own index (projects_live, projects_live_name,
// projects_live_updated) from the cursor's (sort key, id), which is an index condition; filters narrow the
// walk; archived=true reads the small projects_archived index; q= reads the ranges of name suffixes that
// start with its longest words, and ILIKE rechecks the candidates. Every condition uses leakproof operators
// only, so row-level security lets them be index conditions (schema/tenant/00007).
func (q ProjectQuery) listSQL(tenantID uuid.UUID) (string, []any) {
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	// name_key (lower(name), stored) is selected so that a name cursor carries PostgreSQL's case folding.
	b.WriteString(`SELECT ` + projectColumns + `, name_key FROM tenant.projects WHERE tenant_id = $1 AND deleted_at IS NULL`)
	if q.Archived {
		b.WriteString(` AND archived_at IS NOT NULL`)
	} else {
		b.WriteString(` AND archived_at IS NULL`)
	}
	if q.Status != "" {
		b.WriteString(` AND status = ` + arg(q.Status))
	}
	if q.Member != uuid.Nil {
		b.WriteString(` AND id IN (SELECT project_id FROM tenant.project_members WHERE tenant_id = $1 AND identity_id = ` + arg(q.Member) + `)`)
	}
	if q.Search != "" {
		for _, r := range projectSearchRanges(q.Search) {
			b.WriteString(` AND id IN (SELECT project_id FROM tenant.project_name_suffixes WHERE tenant_id = $1 AND suffix >= ` + arg(r[0]))
			if r[1] != "" {
				b.WriteString(` AND suffix < ` + arg(r[1]))
			}
			b.WriteString(`)`)
		}
		b.WriteString(` AND name ILIKE ` + arg(projectNamePattern(q.Search)))
	}
	order := q.Order
	if order == "" {
		order = DefaultProjectOrder
	}
	desc := strings.HasPrefix(order, "-")
	cmp, dir := ">", ""
	if desc {
		cmp, dir = "<", " DESC"
	}
	switch strings.TrimPrefix(order, "-") {
	case ProjectOrderName:
		if q.after != nil {
			b.WriteString(` AND (name_key, id) ` + cmp + ` (` + arg(q.after.Key) + `, ` + arg(q.after.After) + `)`)
		}
		b.WriteString(` ORDER BY name_key` + dir + `, id` + dir)
	case ProjectOrderUpdated:
		if q.after != nil {
			t, _ := time.Parse(time.RFC3339Nano, q.after.Key)
			b.WriteString(` AND (updated_at, id) ` + cmp + ` (` + arg(t) + `, ` + arg(q.after.After) + `)`)
		}
		b.WriteString(` ORDER BY updated_at` + dir + `, id` + dir)
	default:
		if q.after != nil {
			b.WriteString(` AND id ` + cmp + ` ` + arg(q.after.After))
		}
		b.WriteString(` ORDER BY id` + dir)
	}
	b.WriteString(` LIMIT ` + arg(q.Limit+1))
	return b.String(), args
}

// List returns one page of tenantID's live projects that match q, in q's ordering.
func (s *Projects) List(ctx context.Context, tenantID uuid.UUID, q ProjectQuery) (page.Page[Project], error) {
	if q.Limit < 1 || q.Limit > page.MaxLimit {
		q.Limit = page.DefaultLimit
	}
	if q.Order == "" {
		q.Order = DefaultProjectOrder
	}
	sql, args := q.listSQL(tenantID)
	if q.Search != "" {
		// A search's plan depends on its words: a suffix range may hold one project or every one. A cached
		// generic plan guesses one selectivity for all ranges and can drive the join from the widest, so
		// searches are planned for their values each time (an unnamed statement, one round trip as well).
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	var (
		items []Project
		keys  []string
	)
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Project, error) {
			var key string
			p, err := scanProject(r, &key)
			keys = append(keys, key)
			return p, err
		})
		return err
	})
	if err != nil {
		return page.Page[Project]{}, fmt.Errorf("list projects: %w", err)
	}
	return page.Keyset(items, q.Limit, func(last Project) string {
		c := projectCursor{Order: q.Order, After: last.ID}
		switch strings.TrimPrefix(q.Order, "-") {
		case ProjectOrderName:
			c.Key = keys[q.Limit-1]
		case ProjectOrderUpdated:
			c.Key = last.UpdatedAt.UTC().Format(time.RFC3339Nano)
		}
		return c.encode(q.cursors, q.scope)
	}), nil
}
