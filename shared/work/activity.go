package work

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ActivityEntry is one row of a tenant's activity trail as the API shows it.
type ActivityEntry struct {
	ID uuid.UUID `json:"id"`
	// ActorID is null for changes no person made (the platform's own jobs).
	ActorID    *uuid.UUID `json:"actor_id"`
	EntityType string     `json:"entity_type"`
	EntityID   uuid.UUID  `json:"entity_id"`
	Action     string     `json:"action"`
	// Changes maps each changed field to {"old","new"}; for a create, the initial values.
	Changes   json.RawMessage `json:"changes"`
	CreatedAt time.Time       `json:"created_at"`
}

// ActivityQuery is a parsed GET /v1/activity: filters and the page. Zero values filter nothing.
type ActivityQuery struct {
	EntityType string
	EntityID   uuid.UUID
	ActorID    uuid.UUID
	// Since keeps rows created at or after it; Until keeps rows created before it.
	Since, Until time.Time
	Limit        int

	after   *activityCursor
	cursors *page.Cursors // signs the next page's cursor; nil in queries built by hand
	scope   string        // the list and its normalised filters, which the cursor is bound to
}

// activityCursor is the content of an activity cursor: the last row's (created_at, id). Order marks it as an
// activity cursor, so a cursor of another list is refused rather than misread.
type activityCursor struct {
	Order string    `json:"o"`
	At    time.Time `json:"k"`
	After uuid.UUID `json:"a"`
}

const activityCursorOrder = "activity"

var activityEntityTypePattern = regexp.MustCompile(`^[a-z][a-z_]{0,49}$`)

// ParseActivityQuery reads entity_type, entity_id, actor, since, until (RFC 3339), limit and cursor. Every
// bad parameter is reported at once, as a valid.Errors naming it. The cursor is opened with c for these filters.
func ParseActivityQuery(v url.Values, c *page.Cursors) (ActivityQuery, error) {
	var (
		q    = ActivityQuery{cursors: c}
		errs valid.Errors
	)
	q.Limit = page.ParseLimit(v, &errs)
	if s := v.Get("entity_type"); s != "" {
		q.EntityType = s
		errs.Check(activityEntityTypePattern.MatchString(s), "entity_type", "must be an entity type such as project or task")
	}
	for _, p := range []struct {
		name string
		dst  *uuid.UUID
	}{{"entity_id", &q.EntityID}, {"actor", &q.ActorID}} {
		if s := v.Get(p.name); s != "" {
			*p.dst = errs.CheckID(p.name, s)
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			errs.Check(err == nil, p.name, "must be an RFC 3339 time, such as 2026-11-26T09:00:00Z")
			*p.dst = t
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		errs.Add("until", "must be after since")
	}
	q.scope = q.cursorScope()
	if s := v.Get("cursor"); s != "" {
		var cur activityCursor
		if !c.Open(q.scope, s, &cur) || cur.Order != activityCursorOrder || cur.After == uuid.Nil || cur.At.IsZero() {
			errs = append(errs, page.InvalidCursor())
		} else {
			q.after = &cur
		}
	}
	return q, errs.Err()
}

// cursorScope names the trail q asks for, for its cursors: the endpoint and its filters.
func (q ActivityQuery) cursorScope() string {
	p := url.Values{}
	if q.EntityType != "" {
		p.Set("entity_type", q.EntityType)
	}
	for name, id := range map[string]uuid.UUID{"entity_id": q.EntityID, "actor": q.ActorID} {
		if id != uuid.Nil {
			p.Set(name, id.String())
		}
	}
	for name, t := range map[string]time.Time{"since": q.Since, "until": q.Until} {
		if !t.IsZero() {
			p.Set(name, t.UTC().Format(time.RFC3339Nano))
		}
	}
	return page.Scope("GET /v1/activity", p)
}

// ActivityTrail reads a tenant's activity trail; shared/activity writes it.
type ActivityTrail struct {
	tenants *db.Tenants
}

// NewActivityTrail returns the trail reader over d's tenant handle.
func NewActivityTrail(d *db.DB) *ActivityTrail {
	return &ActivityTrail{tenants: d.Tenants}
}

// listSQL builds the trail query of q: newest first by (created_at, id). Every filter has an index ending in
// (created_at, id) (schema/tenant/00007), so filter, time range and cursor are index conditions.
func (q ActivityQuery) listSQL(tenantID uuid.UUID) (string, []any) {
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	b.WriteString(`SELECT id, actor_id, entity_type, entity_id, action, changes, created_at FROM tenant.activity WHERE tenant_id = $1`)
	if q.EntityType != "" {
		b.WriteString(` AND entity_type = ` + arg(q.EntityType))
	}
	if q.EntityID != uuid.Nil {
		b.WriteString(` AND entity_id = ` + arg(q.EntityID))
	}
	if q.ActorID != uuid.Nil {
		b.WriteString(` AND actor_id = ` + arg(q.ActorID))
	}
	if !q.Since.IsZero() {
		b.WriteString(` AND created_at >= ` + arg(q.Since))
	}
	if !q.Until.IsZero() {
		b.WriteString(` AND created_at < ` + arg(q.Until))
	}
	if q.after != nil {
		b.WriteString(` AND (created_at, id) < (` + arg(q.after.At) + `, ` + arg(q.after.After) + `)`)
	}
	b.WriteString(` ORDER BY created_at DESC, id DESC LIMIT ` + arg(q.Limit+1))
	return b.String(), args
}

// List returns one page of tenantID's activity that matches q, newest first.
func (s *ActivityTrail) List(ctx context.Context, tenantID uuid.UUID, q ActivityQuery) (page.Page[ActivityEntry], error) {
	if q.Limit < 1 || q.Limit > page.MaxLimit {
		q.Limit = page.DefaultLimit
	}
	sql, args := q.listSQL(tenantID)
	var items []ActivityEntry
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ActivityEntry, error) {
			var e ActivityEntry
			err := r.Scan(&e.ID, &e.ActorID, &e.EntityType, &e.EntityID, &e.Action, &e.Changes, &e.CreatedAt)
			return e, err
		})
		return err
	})
	if err != nil {
		return page.Page[ActivityEntry]{}, fmt.Errorf("list activity: %w", err)
	}
	return page.Keyset(items, q.Limit, func(last ActivityEntry) string {
		return q.cursors.Seal(q.scope, activityCursor{Order: activityCursorOrder, At: last.CreatedAt, After: last.ID})
	}), nil
}
