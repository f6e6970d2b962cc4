package work

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MaxTaskPosition bounds a position a client gives, either sign. A new task goes one after the last, so a huge
// position would make every later one equal to it (1e308+1 is 1e308); within a billion, float64 still halves
// the gap between two neighbours some twenty times when a task is dragged between them.
const MaxTaskPosition = 1e9

// Task orderings a list may ask for; a "-" prefix reverses one. DefaultTaskOrder is newest first.
const (
	OrderCreated     = "created"
	OrderUpdated     = "updated"
	OrderDue         = "due"
	OrderPriority    = "priority"
	OrderPosition    = "position"
	DefaultTaskOrder = "-" + OrderCreated
)

// TaskQuery asks for one page of a project's tasks: every filter given must hold (labels: the task carries
// each of them), in Order, at most Limit tasks after the position Cursor names.
type TaskQuery struct {
	// Statuses keeps tasks in any of these statuses.
	Statuses []string
	// AssigneeID keeps the tasks of one assignee; Unassigned keeps those of none.
	AssigneeID *uuid.UUID
	Unassigned bool
	// Labels keeps tasks that carry every one of these labels, compared as stored (trimmed, lower-case, as
	// ParseTaskQuery leaves them).
	Labels []string
	// DueBefore and DueAfter ("YYYY-MM-DD", exclusive) keep tasks due strictly before or after a day; tasks
	// without a due date match neither.
	DueBefore, DueAfter *string
	// Order is one of the Order constants, "-" prefixed for descending; "" is DefaultTaskOrder.
	Order string
	// Limit is the page size, 1 to page.MaxLimit.
	Limit int
	// Cursor is a NextCursor of an earlier page of the same list (project, filters and ordering), or "" for
	// the first page.
	Cursor string

	cursors *page.Cursors // opens Cursor and signs the next; nil in queries built by hand
}

// taskCursor is a cursor's content: the ordering it belongs to and the last task's sort key and id. Clients
// see only its base64url form.
type taskCursor struct {
	Order string     `json:"o"`
	ID    uuid.UUID  `json:"i"`
	Time  *time.Time `json:"t,omitempty"`
	Date  string     `json:"d,omitempty"`
	Num   *float64   `json:"n,omitempty"`
}

// orderKeys maps each ordering to its sort key's column and the SQL type of its cursor value; created order
// is id order, so it has no key of its own.
var orderKeys = map[string]struct{ column, cast string }{
	OrderCreated:  {},
	OrderUpdated:  {"t.updated_at", "timestamptz"},
	OrderDue:      {"t.due_key", "text::date"},
	OrderPriority: {"t.priority", "smallint"},
	OrderPosition: {"t.position", "float8"},
}

// splitOrder returns an ordering's key name and direction, and false for an unknown ordering.
func splitOrder(order string) (string, bool, bool) {
	if order == "" {
		order = DefaultTaskOrder
	}
	key, desc := strings.CutPrefix(order, "-")
	_, ok := orderKeys[key]
	return key, desc, ok
}

// cursorOf returns the cursor that resumes a list in order (never "") after t, signed by cursors for scope.
func cursorOf(cursors *page.Cursors, scope, order string, t Task) string {
	key, _, _ := splitOrder(order)
	c := taskCursor{Order: order, ID: t.ID}
	switch key {
	case OrderUpdated:
		c.Time = &t.UpdatedAt
	case OrderDue:
		c.Date = "infinity"
		if t.DueDate != nil {
			c.Date = *t.DueDate
		}
	case OrderPriority:
		n := float64(slices.Index(TaskPriorities, t.Priority))
		c.Num = &n
	case OrderPosition:
		c.Num = &t.Position
	}
	return cursors.Seal(scope, c)
}

// decodeCursor reads a cursor that cursors signed for scope and order (never ""), and reports any other as
// page.InvalidCursor.
func decodeCursor(cursors *page.Cursors, scope, s, order string) (*taskCursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := valid.Errors{page.InvalidCursor()}
	var c taskCursor
	if !cursors.Open(scope, s, &c) || c.ID == uuid.Nil || c.Order != order {
		return nil, bad
	}
	key, _, _ := splitOrder(order)
	switch key {
	case OrderUpdated:
		if c.Time == nil {
			return nil, bad
		}
	case OrderDue:
		if _, ok := parseDate(c.Date); !ok && c.Date != "infinity" {
			return nil, bad
		}
	case OrderPriority, OrderPosition:
		if c.Num == nil || math.IsNaN(*c.Num) || math.IsInf(*c.Num, 0) {
			return nil, bad
		}
	}
	return &c, nil
}

// ParseTaskQuery reads a task list's query string: status (repeatable, or a comma list), assignee (an id,
// "none", or "me" for the caller me), label (repeatable), due_before and due_after (YYYY-MM-DD), order, limit
// and cursor. Every bad parameter is reported at once, as a valid.Errors naming it. The cursor is opened with
// c by List, which knows the project the list is of.
func ParseTaskQuery(q url.Values, me uuid.UUID, c *page.Cursors) (TaskQuery, error) {
	var (
		tq   = TaskQuery{cursors: c}
		errs valid.Errors
	)
	tq.Limit = page.ParseLimit(q, &errs)
	badStatus := false
	for _, v := range q["status"] {
		for s := range strings.SplitSeq(v, ",") {
			s = strings.TrimSpace(s)
			switch {
			case !slices.Contains(TaskStatuses, s):
				badStatus = true
			case !slices.Contains(tq.Statuses, s):
				tq.Statuses = append(tq.Statuses, s)
			}
		}
	}
	errs.Check(!badStatus, "status", "must be one or more of "+strings.Join(TaskStatuses, ", "))
	switch a := q.Get("assignee"); a {
	case "":
	case "none":
		tq.Unassigned = true
	case "me":
		tq.AssigneeID = &me
	default:
		id, ok := valid.ParseID(a)
		if !ok {
			errs.Add("assignee", `must be a member's id, "me" or "none"`)
		} else {
			tq.AssigneeID = &id
		}
	}
	if len(q["label"]) > 0 {
		labels, msg := normalizeLabels(q["label"])
		if msg != "" {
			errs.Add("label", msg)
		}
		tq.Labels = labels
	}
	for _, p := range []struct {
		name string
		to   **string
	}{{"due_before", &tq.DueBefore}, {"due_after", &tq.DueAfter}} {
		if v := q.Get(p.name); v != "" {
			d, ok := parseDate(v)
			if !ok {
				errs.Add(p.name, "must be a date YYYY-MM-DD")
				continue
			}
			*p.to = &d
		}
	}
	tq.Order = q.Get("order")
	if tq.Order == "" {
		tq.Order = DefaultTaskOrder
	}
	if _, _, ok := splitOrder(tq.Order); !ok {
		errs.Add("order", "must be one of created, updated, due, priority, position, each optionally prefixed with -")
	}
	tq.Cursor = q.Get("cursor")
	return tq, errs.Err()
}

// cursorScope names the list q asks for over project projectID, for its cursors: the endpoint with the
// project, the filters in their normalised form and the ordering.
func (q TaskQuery) cursorScope(projectID uuid.UUID) string {
	p := url.Values{"order": {q.Order}}
	if len(q.Statuses) > 0 {
		statuses := slices.Clone(q.Statuses)
		slices.Sort(statuses)
		p["status"] = statuses
	}
	switch {
	case q.Unassigned:
		p.Set("assignee", "none")
	case q.AssigneeID != nil:
		p.Set("assignee", q.AssigneeID.String())
	}
	if len(q.Labels) > 0 {
		labels := slices.Clone(q.Labels)
		slices.Sort(labels)
		p["label"] = labels
	}
	if q.DueBefore != nil {
		p.Set("due_before", *q.DueBefore)
	}
	if q.DueAfter != nil {
		p.Set("due_after", *q.DueAfter)
	}
	return page.Scope("GET /v1/projects/"+projectID.String()+"/tasks", p)
}

// listTasksSQL builds the list query of q over project projectID of tenantID, after cursor c. Every variant
// names tenant_id and project_id first, so each is served by one of the tasks_project* indexes (see
// schema/tenant/00005_tasks.sql); its comparisons are plain columns against parameters because under row-level
// security only leakproof operators on columns become index conditions.
func listTasksSQL(tenantID, projectID uuid.UUID, q TaskQuery, c *taskCursor) (string, []any) {
	key, desc, _ := splitOrder(q.Order)
	args := []any{tenantID, projectID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"t.tenant_id = $1", "t.project_id = $2", "t.deleted_at IS NULL"}
	if len(q.Statuses) > 0 {
		where = append(where, "t.status = ANY("+arg(q.Statuses)+"::text[])")
	}
	switch {
	case q.Unassigned:
		where = append(where, "t.assignee_id IS NULL")
	case q.AssigneeID != nil:
		where = append(where, "t.assignee_id = "+arg(*q.AssigneeID))
	}
	for _, l := range q.Labels {
		where = append(where, "t.id IN (SELECT l.task_id FROM tenant.task_labels l WHERE l.tenant_id = $1 AND l.project_id = $2 AND l.label = "+arg(l)+")")
	}
	if q.DueBefore != nil {
		where = append(where, "t.due_key < "+arg(*q.DueBefore)+"::text::date")
	}
	if q.DueAfter != nil {
		where = append(where, "t.due_key > "+arg(*q.DueAfter)+"::text::date", "t.due_key < 'infinity'::date")
	}
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	k := orderKeys[key]
	if c != nil {
		switch key {
		case OrderCreated:
			where = append(where, "t.id "+cmp+" "+arg(c.ID))
		default:
			var v any
			switch key {
			case OrderUpdated:
				v = *c.Time
			case OrderDue:
				v = c.Date
			case OrderPriority:
				v = int16(*c.Num)
			case OrderPosition:
				v = *c.Num
			}
			where = append(where, "("+k.column+", t.id) "+cmp+" ("+arg(v)+"::"+k.cast+", "+arg(c.ID)+"::uuid)")
		}
	}
	orderBy := "t.id " + dir
	if k.column != "" {
		orderBy = k.column + " " + dir + ", " + orderBy
	}
	return `SELECT ` + taskColumns + ` FROM tenant.tasks t WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + orderBy + ` LIMIT ` + arg(q.Limit+1), args
}

// List returns one page of the tasks of live project projectID of tenantID. A project that does not exist, or
// was deleted, is db.ErrNotFound.
func (s *Tasks) List(ctx context.Context, tenantID, projectID uuid.UUID, q TaskQuery) (page.Page[Task], error) {
	if q.Order == "" {
		q.Order = DefaultTaskOrder
	}
	if _, _, ok := splitOrder(q.Order); !ok {
		return page.Page[Task]{}, valid.Errors{{Field: "order", Message: "is not an ordering of tasks"}}
	}
	if q.Limit < 1 || q.Limit > page.MaxLimit {
		q.Limit = page.DefaultLimit
	}
	scope := q.cursorScope(projectID)
	c, err := decodeCursor(q.cursors, scope, q.Cursor, q.Order)
	if err != nil {
		return page.Page[Task]{}, err
	}
	sql, args := listTasksSQL(tenantID, projectID, q, c)
	var items []Task
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// One round trip (DESIGN.md rule 9) for the plan setting and both reads: whether the project is live, and
		// the page. The list is always planned for its parameters: a cached generic plan cannot know whether an
		// assignee or a label is rare, and picks plans hundreds of times slower for the ones that are not.
		b := &pgx.Batch{}
		b.Queue(`SET LOCAL plan_cache_mode = force_custom_plan`)
		b.Queue(`SELECT EXISTS (SELECT 1 FROM tenant.projects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL)`, tenantID, projectID)
		b.Queue(sql, args...)
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		var live bool
		if err := br.QueryRow().Scan(&live); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) { return scanTask(r) })
		if err != nil {
			return err
		}
		if !live {
			return db.ErrNotFound
		}
		return br.Close()
	})
	if err != nil {
		return page.Page[Task]{}, fmt.Errorf("list tasks of project %s: %w", projectID, err)
	}
	return page.Keyset(items, q.Limit, func(last Task) string { return cursorOf(q.cursors, scope, q.Order, last) }), nil
}
