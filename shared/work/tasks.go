package work

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/events"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Task statuses.
const (
	TaskTodo       = "todo"
	TaskInProgress = "in_progress"
	TaskBlocked    = "blocked"
	TaskDone       = "done"
)

// TaskStatuses lists every task status, in board order.
var TaskStatuses = []string{TaskTodo, TaskInProgress, TaskBlocked, TaskDone}

// TaskPriorities lists the priorities a client names, lowest first; a task stores its priority's index here,
// so that ordering by priority is an index order.
var TaskPriorities = []string{"low", "medium", "high", "urgent"}

// Limits on a task's fields, matching the table's check constraints.
const (
	MaxTaskTitleLength       = 500
	MaxTaskDescriptionLength = 20000
	MaxTaskLabels            = 20
	MaxLabelLength           = 50
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

// ErrTaskChanged means a conditional write's If-Match named an ETag the task no longer has.
var ErrTaskChanged = errors.New("the task changed since its ETag was read")

// dateLayout is the API's form of a due date.
const dateLayout = "2006-01-02"

// Task is a task as the API shows it.
type Task struct {
	ID          uuid.UUID  `json:"id"`
	ProjectID   uuid.UUID  `json:"project_id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	Priority    string     `json:"priority"`
	AssigneeID  *uuid.UUID `json:"assignee_id"`
	// DueDate is "YYYY-MM-DD", or nil when the task has none.
	DueDate   *string   `json:"due_date"`
	Labels    []string  `json:"labels"`
	Position  float64   `json:"position"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version counts the task's writes; the ETag is derived from it and is not part of the body.
	Version int `json:"-"`
}

// ETag returns the task's strong entity tag: opaque, and different after every write that changed the task.
// It hashes the id with the version, so a tag read from one task never matches another.
func (t Task) ETag() string {
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], uint32(t.Version))
	sum := sha256.Sum256(append(t.ID[:], v[:]...))
	return `"` + hex.EncodeToString(sum[:10]) + `"`
}

// IfMatch is a conditional write's precondition, read from If-Match: the ETags the client holds, or Any for
// "*". The zero value imposes none (a client that sends no If-Match writes unconditionally); a non-nil empty
// ETags (a header naming no tag) matches nothing.
type IfMatch struct {
	ETags []string
	Any   bool
}

// holds reports whether a task whose current ETag is etag meets m. Comparison is strong: a weak tag never
// matches (RFC 9110, 13.1.1).
func (m IfMatch) holds(etag string) bool {
	if m.Any || m.ETags == nil {
		return true
	}
	return slices.Contains(m.ETags, etag)
}

// PatchField is one member of a JSON merge patch (RFC 7396): Set when the member was present, Null when its
// value was null, Value otherwise.
type PatchField[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the member was present, and whether it was null.
func (f *PatchField[T]) UnmarshalJSON(b []byte) error {
	f.Set = true
	if string(b) == "null" {
		f.Null, f.Value = true, *new(T)
		return nil
	}
	f.Null = false
	return json.Unmarshal(b, &f.Value)
}

// Given returns a PatchField set to v, for callers that build patches in Go.
func Given[T any](v T) PatchField[T] { return PatchField[T]{Set: true, Value: v} }

// TaskPatch is a PATCH body: only present members change. null clears assignee_id and due_date, empties
// description and labels, and is refused for title, status, priority and position, which always have a value.
type TaskPatch struct {
	Title       PatchField[string]   `json:"title"`
	Description PatchField[string]   `json:"description"`
	Status      PatchField[string]   `json:"status"`
	Priority    PatchField[string]   `json:"priority"`
	AssigneeID  PatchField[string]   `json:"assignee_id"`
	DueDate     PatchField[string]   `json:"due_date"`
	Labels      PatchField[[]string] `json:"labels"`
	Position    PatchField[float64]  `json:"position"`
}

// TaskInput is what a client sends to create a task, or to replace one with PUT. Omitted fields take their
// defaults (status todo, priority medium, no assignee, no due date, no labels), except position: a new task
// goes after the project's last one, and a replaced task keeps its place unless position is given.
type TaskInput struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Status      *string  `json:"status"`
	Priority    *string  `json:"priority"`
	AssigneeID  *string  `json:"assignee_id"`
	DueDate     *string  `json:"due_date"`
	Labels      []string `json:"labels"`
	Position    *float64 `json:"position"`
}

// patch turns a full input into the patch that replaces every writable field.
func (in TaskInput) patch() TaskPatch {
	p := TaskPatch{
		Title:       Given(in.Title),
		Description: Given(in.Description),
		Status:      Given(TaskTodo),
		Priority:    Given(TaskPriorities[1]),
		AssigneeID:  PatchField[string]{Set: true, Null: true},
		DueDate:     PatchField[string]{Set: true, Null: true},
		Labels:      Given(in.Labels),
	}
	if in.Status != nil {
		p.Status = Given(*in.Status)
	}
	if in.Priority != nil {
		p.Priority = Given(*in.Priority)
	}
	if in.AssigneeID != nil {
		p.AssigneeID = Given(*in.AssigneeID)
	}
	if in.DueDate != nil {
		p.DueDate = Given(*in.DueDate)
	}
	if in.Position != nil {
		p.Position = Given(*in.Position)
	}
	return p
}

// taskValues are a task's writable fields in their stored form.
type taskValues struct {
	title, description, status string
	priority                   int16
	assignee                   *uuid.UUID
	due                        *string
	labels                     []string
	position                   float64
}

// taskChange is a validated patch: nil pointers leave a field as it is.
type taskChange struct {
	title, description, status *string
	priority                   *int16
	setAssignee                bool
	assignee                   *uuid.UUID
	setDue                     bool
	due                        *string
	labels                     *[]string
	position                   *float64
}

// validate checks every present member and reports every failing field at once.
func (p TaskPatch) validate() (taskChange, error) {
	var c taskChange
	var errs valid.Errors
	if p.Title.Set {
		t := strings.TrimSpace(p.Title.Value)
		errs.Check(t != "", "title", "is required")
		errs.Check(utf8.RuneCountInString(t) <= MaxTaskTitleLength, "title", fmt.Sprintf("must be at most %d characters", MaxTaskTitleLength))
		// PostgreSQL text cannot hold NUL; refusing it here keeps it a 422 rather than a driver error.
		errs.Check(!strings.ContainsRune(t, 0), "title", "must not contain NUL characters")
		errs.CheckDisplayText("title", t)
		c.title = &t
	}
	if p.Description.Set {
		d := p.Description.Value
		errs.Check(utf8.RuneCountInString(d) <= MaxTaskDescriptionLength, "description", fmt.Sprintf("must be at most %d characters", MaxTaskDescriptionLength))
		errs.Check(!strings.ContainsRune(d, 0), "description", "must not contain NUL characters")
		c.description = &d
	}
	if p.Status.Set {
		s := p.Status.Value
		if !p.Status.Null && slices.Contains(TaskStatuses, s) {
			c.status = &s
		} else {
			errs.Add("status", "must be one of "+strings.Join(TaskStatuses, ", "))
		}
	}
	if p.Priority.Set {
		if i := slices.Index(TaskPriorities, p.Priority.Value); !p.Priority.Null && i >= 0 {
			n := int16(i)
			c.priority = &n
		} else {
			errs.Add("priority", "must be one of "+strings.Join(TaskPriorities, ", "))
		}
	}
	if p.AssigneeID.Set {
		c.setAssignee = true
		if !p.AssigneeID.Null {
			id, ok := valid.ParseID(p.AssigneeID.Value)
			if !ok || id == uuid.Nil {
				errs.Add("assignee_id", "must be the id of a member, or null")
			} else {
				c.assignee = &id
			}
		}
	}
	if p.DueDate.Set {
		c.setDue = true
		if !p.DueDate.Null {
			d, ok := parseDate(p.DueDate.Value)
			if ok {
				c.due = &d
			} else {
				errs.Add("due_date", "must be a date YYYY-MM-DD, or null")
			}
		}
	}
	if p.Labels.Set {
		labels, msg := normalizeLabels(p.Labels.Value)
		if msg != "" {
			errs.Add("labels", msg)
		}
		c.labels = &labels
	}
	if p.Position.Set {
		x := p.Position.Value
		if !p.Position.Null && !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) <= MaxTaskPosition {
			c.position = &x
		} else {
			errs.Add("position", fmt.Sprintf("must be a number from %g to %g", -MaxTaskPosition, MaxTaskPosition))
		}
	}
	return c, errs.Err()
}

// parseDate reads a "YYYY-MM-DD" date of years 1 to 9999 (PostgreSQL has no year 0) and returns it in that form.
func parseDate(s string) (string, bool) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Year() < 1 {
		return "", false
	}
	return t.Format(dateLayout), true
}

// normalizeLabels trims, lower-cases and deduplicates labels, keeping their first order, and returns what is
// wrong with them, or "".
func normalizeLabels(in []string) ([]string, string) {
	out := make([]string, 0, len(in))
	for _, l := range in {
		l = strings.ToLower(strings.TrimSpace(l))
		switch {
		case l == "":
			return nil, "must not hold empty labels"
		case utf8.RuneCountInString(l) > MaxLabelLength:
			return nil, fmt.Sprintf("each label must be at most %d characters", MaxLabelLength)
		case strings.ContainsRune(l, 0):
			return nil, "must not contain NUL characters"
		case !valid.DisplayText(l):
			return nil, "must not contain control, line-separator or invisible formatting characters"
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) > MaxTaskLabels {
		return nil, fmt.Sprintf("must hold at most %d labels", MaxTaskLabels)
	}
	return out, ""
}

// apply returns v with c's fields set.
func (c taskChange) apply(v taskValues) taskValues {
	if c.title != nil {
		v.title = *c.title
	}
	if c.description != nil {
		v.description = *c.description
	}
	if c.status != nil {
		v.status = *c.status
	}
	if c.priority != nil {
		v.priority = *c.priority
	}
	if c.setAssignee {
		v.assignee = c.assignee
	}
	if c.setDue {
		v.due = c.due
	}
	if c.labels != nil {
		v.labels = *c.labels
	}
	if c.position != nil {
		v.position = *c.position
	}
	return v
}

// taskFields names the writable fields in the order activity, events and tests list them.
var taskFields = []string{"title", "description", "status", "priority", "assignee_id", "due_date", "labels", "position"}

// api returns the fields' values as the API shows them, for the activity trail.
func (v taskValues) api() map[string]any {
	return map[string]any{
		"title": v.title, "description": v.description, "status": v.status, "priority": TaskPriorities[v.priority],
		"assignee_id": v.assignee, "due_date": v.due, "labels": v.labels, "position": v.position,
	}
}

// diff returns the fields that differ between old and next, with their old and new values.
func diff(old, next taskValues) map[string]activity.Change {
	o, n := old.api(), next.api()
	same := map[string]bool{
		"title": old.title == next.title, "description": old.description == next.description, "status": old.status == next.status,
		"priority": old.priority == next.priority, "assignee_id": equalPtr(old.assignee, next.assignee), "due_date": equalPtr(old.due, next.due),
		"labels": slices.Equal(old.labels, next.labels), "position": old.position == next.position,
	}
	changes := map[string]activity.Change{}
	for _, f := range taskFields {
		if !same[f] {
			changes[f] = activity.Change{Old: o[f], New: n[f]}
		}
	}
	return changes
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// Tasks is the store of tasks. Assignments are checked against the directory's memberships.
type Tasks struct {
	dir     *db.Directory
	tenants *db.Tenants
}

// NewTasks returns the task store over the directory (for assignees' memberships) and the tenant handle.
func NewTasks(dir *db.Directory, tenants *db.Tenants) *Tasks {
	return &Tasks{dir: dir, tenants: tenants}
}

const taskColumns = `t.id, t.project_id, t.title, t.description, t.status, t.priority, t.assignee_id, t.due_date, t.labels,
	t.position, t.created_at, t.updated_at, t.version`

func scanTask(row pgx.Row) (Task, error) {
	var (
		t        Task
		priority int16
		due      pgtype.Date
	)
	if err := row.Scan(&t.ID, &t.ProjectID, &t.Title, &t.Description, &t.Status, &priority, &t.AssigneeID, &due, &t.Labels,
		&t.Position, &t.CreatedAt, &t.UpdatedAt, &t.Version); err != nil {
		return Task{}, err
	}
	if priority < 0 || int(priority) >= len(TaskPriorities) {
		return Task{}, fmt.Errorf("task %s has priority %d", t.ID, priority)
	}
	t.Priority = TaskPriorities[priority]
	if due.Valid {
		d := due.Time.Format(dateLayout)
		t.DueDate = &d
	}
	if t.Labels == nil {
		t.Labels = []string{}
	}
	return t, nil
}

// values returns t's writable fields in their stored form.
func (t Task) values() taskValues {
	return taskValues{
		title: t.Title, description: t.Description, status: t.Status, priority: int16(slices.Index(TaskPriorities, t.Priority)),
		assignee: t.AssigneeID, due: t.DueDate, labels: t.Labels, position: t.Position,
	}
}

// selectLiveTask reads a live task of a live project: a task whose project was deleted is hidden with it.
const selectLiveTask = `SELECT ` + taskColumns + ` FROM tenant.tasks t
	JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
	WHERE t.tenant_id = $1 AND t.id = $2 AND t.deleted_at IS NULL AND p.deleted_at IS NULL`

// memberRole returns identityID's role in tenantID's organization, or "" when it is not a member.
func (s *Tasks) memberRole(ctx context.Context, tenantID, identityID uuid.UUID) (string, error) {
	var role string
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT role FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`,
			tenantID, identityID).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("load membership of %s: %w", identityID, err)
	}
	return role, nil
}

// assigneeRole reads the directory role of the assignee c names, before the task's transaction opens (the
// directory and the tenant store are never joined, and may be different clusters). It is "" when c assigns
// nobody.
func (s *Tasks) assigneeRole(ctx context.Context, tenantID uuid.UUID, c taskChange) (string, error) {
	if c.assignee == nil {
		return "", nil
	}
	return s.memberRole(ctx, tenantID, *c.assignee)
}

// projectAccess reports whether a member whose organization role is orgRole (read from the directory; "" for
// a non-member) has access to project projectID, and so may be assigned its tasks. It is the one seam where
// the task store asks the project's rule (ProjectAccess, beside the project members): organization owners and
// admins always; when the project has members, exactly them; otherwise every organization role but viewer.
func projectAccess(ctx context.Context, tx pgx.Tx, tenantID, projectID, identityID uuid.UUID, orgRole string) (bool, error) {
	return ProjectAccess(ctx, tx, tenantID, projectID, identityID, orgRole)
}

// errNotAssignable is the 422 for an assignee without access to the project.
var errNotAssignable = valid.Errors{{Field: "assignee_id", Message: "must be a member of the organization with access to this project"}}

// Create adds a task to live project projectID of tenantID on behalf of actorID. A project that does not
// exist, or was deleted, is db.ErrNotFound.
func (s *Tasks) Create(ctx context.Context, tenantID, actorID, projectID uuid.UUID, in TaskInput) (Task, error) {
	c, err := in.patch().validate()
	if err != nil {
		return Task{}, err
	}
	role, err := s.assigneeRole(ctx, tenantID, c)
	if err != nil {
		return Task{}, fmt.Errorf("create task: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Task{}, fmt.Errorf("create task: %w", err)
	}
	var t Task
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// FOR SHARE holds off a concurrent delete of the project until the task is in; the last position is read
		// in the same round trip, for a task that names none.
		var last float64
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT max(position) FROM tenant.tasks
				WHERE tenant_id = $1 AND project_id = $2 AND deleted_at IS NULL), 0)
			FROM tenant.projects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR SHARE`, tenantID, projectID).Scan(&last); err != nil {
			return fmt.Errorf("load project %s: %w", projectID, err)
		}
		v := c.apply(taskValues{position: last + 1})
		if v.assignee != nil {
			ok, err := projectAccess(ctx, tx, tenantID, projectID, *v.assignee, role)
			if err != nil {
				return err
			}
			if !ok {
				return errNotAssignable
			}
		}
		t, err = scanTask(tx.QueryRow(ctx, `INSERT INTO tenant.tasks AS t (tenant_id, id, project_id, title, description, status,
				priority, assignee_id, due_date, labels, position, created_by, completed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::date, $10, $11, $12, CASE WHEN $6 = 'done' THEN now() END)
			RETURNING `+taskColumns, tenantID, id, projectID, v.title, v.description, v.status, v.priority, v.assignee, v.due, v.labels,
			v.position, actorID))
		if err != nil {
			return err
		}
		if err := syncLabels(ctx, tx, tenantID, projectID, id, nil, v.labels); err != nil {
			return err
		}
		// The dashboard's counts by status and the search rows (dashboard.go).
		if err := syncTaskDerived(ctx, tx, tenantID, projectID, id, nil, &t); err != nil {
			return err
		}
		initial := map[string]activity.Change{}
		for f, val := range v.api() {
			initial[f] = activity.Change{New: val}
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "task", EntityID: id, Action: activity.Created, Changes: initial,
		}); err != nil {
			return err
		}
		if _, err := events.Emit(ctx, tx, tenantID, pubsub.TypeTaskCreated, pubsub.TaskCreated{
			TaskID: id, ProjectID: projectID, Title: t.Title, Status: t.Status, Priority: t.Priority, AssigneeID: t.AssigneeID,
			DueDate: t.DueDate, ActorID: actorID,
		}); err != nil {
			return err
		}
		if t.AssigneeID != nil {
			_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeTaskAssigned, pubsub.TaskAssigned{
				TaskID: id, ProjectID: projectID, Title: t.Title, AssigneeID: *t.AssigneeID, ActorID: actorID,
			})
		}
		return err
	})
	if err != nil {
		return Task{}, fmt.Errorf("create task: %w", err)
	}
	return t, nil
}

// syncLabels makes the label index rows of a task match its labels, going from old to next.
func syncLabels(ctx context.Context, tx pgx.Tx, tenantID, projectID, taskID uuid.UUID, old, next []string) error {
	var gone, added []string
	for _, l := range old {
		if !slices.Contains(next, l) {
			gone = append(gone, l)
		}
	}
	for _, l := range next {
		if !slices.Contains(old, l) {
			added = append(added, l)
		}
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM tenant.task_labels WHERE tenant_id = $1 AND project_id = $2 AND label = ANY($3) AND task_id = $4`,
			tenantID, projectID, gone, taskID); err != nil {
			return fmt.Errorf("remove labels: %w", err)
		}
	}
	if len(added) == 0 {
		return nil
	}
	// A multi-row VALUES rather than INSERT ... SELECT unnest(...), which Citus refuses under RLS (DESIGN.md rule 8).
	var sql strings.Builder
	sql.WriteString(`INSERT INTO tenant.task_labels (tenant_id, project_id, task_id, label) VALUES `)
	args := []any{tenantID, projectID, taskID}
	for i, l := range added {
		if i > 0 {
			sql.WriteString(", ")
		}
		args = append(args, l)
		fmt.Fprintf(&sql, "($1, $2, $3, $%d)", len(args))
	}
	if _, err := tx.Exec(ctx, sql.String(), args...); err != nil {
		return fmt.Errorf("add labels: %w", err)
	}
	return nil
}

// Get returns a live task of tenantID. A deleted task, a task of a deleted project, or one of another tenant,
// is db.ErrNotFound.
func (s *Tasks) Get(ctx context.Context, tenantID, id uuid.UUID) (Task, error) {
	var t Task
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		t, err = scanTask(tx.QueryRow(ctx, selectLiveTask, tenantID, id))
		return err
	})
	if err != nil {
		return Task{}, fmt.Errorf("load task %s: %w", id, err)
	}
	return t, nil
}

// Replace sets every writable field of a live task from in (PUT), when cond holds.
func (s *Tasks) Replace(ctx context.Context, tenantID, actorID, id uuid.UUID, in TaskInput, cond IfMatch) (Task, error) {
	return s.Patch(ctx, tenantID, actorID, id, in.patch(), cond)
}

// Patch changes the fields p names of a live task (PATCH), when cond holds; a stale cond is ErrTaskChanged. A
// write that changes nothing records nothing and keeps the task's ETag. A new assignee must be a member of the
// organization with access to the project, or the write is a valid.Errors on assignee_id.
func (s *Tasks) Patch(ctx context.Context, tenantID, actorID, id uuid.UUID, p TaskPatch, cond IfMatch) (Task, error) {
	c, err := p.validate()
	if err != nil {
		return Task{}, err
	}
	role, err := s.assigneeRole(ctx, tenantID, c)
	if err != nil {
		return Task{}, fmt.Errorf("update task %s: %w", id, err)
	}
	var t Task
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		cur, err := scanTask(tx.QueryRow(ctx, selectLiveTask+` FOR UPDATE OF t`, tenantID, id))
		if err != nil {
			return err
		}
		if !cond.holds(cur.ETag()) {
			return ErrTaskChanged
		}
		old := cur.values()
		next := c.apply(old)
		changes := diff(old, next)
		if len(changes) == 0 {
			t = cur
			return nil
		}
		_, reassigned := changes["assignee_id"]
		if reassigned && next.assignee != nil {
			ok, err := projectAccess(ctx, tx, tenantID, cur.ProjectID, *next.assignee, role)
			if err != nil {
				return err
			}
			if !ok {
				return errNotAssignable
			}
		}
		t, err = scanTask(tx.QueryRow(ctx, `UPDATE tenant.tasks AS t SET title = $3, description = $4, status = $5, priority = $6,
				assignee_id = $7, due_date = $8::text::date, labels = $9, position = $10,
				completed_at = CASE WHEN $5 = 'done' THEN coalesce(t.completed_at, now()) END,
				version = t.version + 1, updated_at = now()
			WHERE t.tenant_id = $1 AND t.id = $2 RETURNING `+taskColumns,
			tenantID, id, next.title, next.description, next.status, next.priority, next.assignee, next.due, next.labels, next.position))
		if err != nil {
			return err
		}
		if err := syncLabels(ctx, tx, tenantID, cur.ProjectID, id, old.labels, next.labels); err != nil {
			return err
		}
		// The dashboard's counts by status and the search rows (dashboard.go), when status or text changed.
		if err := syncTaskDerived(ctx, tx, tenantID, cur.ProjectID, id, &cur, &t); err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "task", EntityID: id, Action: activity.Updated, Changes: changes,
		}); err != nil {
			return err
		}
		return emitTaskChanges(ctx, tx, tenantID, actorID, t, old, changes)
	})
	if err != nil {
		return Task{}, fmt.Errorf("update task %s: %w", id, err)
	}
	return t, nil
}

// emitTaskChanges raises the events of one update: task.status_changed for a new status, task.assigned for a
// new assignee, and task.updated listing every other changed field (a cleared assignee among them).
func emitTaskChanges(ctx context.Context, tx pgx.Tx, tenantID, actorID uuid.UUID, t Task, old taskValues, changes map[string]activity.Change) error {
	var others []string
	for _, f := range taskFields {
		if _, ok := changes[f]; !ok {
			continue
		}
		switch {
		case f == "status":
			if _, err := events.Emit(ctx, tx, tenantID, pubsub.TypeTaskStatusChanged, pubsub.TaskStatusChanged{
				TaskID: t.ID, ProjectID: t.ProjectID, OldStatus: old.status, NewStatus: t.Status, ActorID: actorID,
			}); err != nil {
				return err
			}
		case f == "assignee_id" && t.AssigneeID != nil:
			if _, err := events.Emit(ctx, tx, tenantID, pubsub.TypeTaskAssigned, pubsub.TaskAssigned{
				TaskID: t.ID, ProjectID: t.ProjectID, Title: t.Title, AssigneeID: *t.AssigneeID, PreviousAssigneeID: old.assignee, ActorID: actorID,
			}); err != nil {
				return err
			}
		default:
			others = append(others, f)
		}
	}
	if len(others) == 0 {
		return nil
	}
	_, err := events.Emit(ctx, tx, tenantID, pubsub.TypeTaskUpdated, pubsub.TaskUpdated{TaskID: t.ID, ProjectID: t.ProjectID, Changed: others, ActorID: actorID})
	return err
}

// Delete soft-deletes a live task when cond holds; a stale cond is ErrTaskChanged.
func (s *Tasks) Delete(ctx context.Context, tenantID, actorID, id uuid.UUID, cond IfMatch) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		cur, err := scanTask(tx.QueryRow(ctx, selectLiveTask+` FOR UPDATE OF t`, tenantID, id))
		if err != nil {
			return err
		}
		if !cond.holds(cur.ETag()) {
			return ErrTaskChanged
		}
		var deletedAt time.Time
		if err := tx.QueryRow(ctx, `UPDATE tenant.tasks SET deleted_at = now(), updated_at = now(), version = version + 1
			WHERE tenant_id = $1 AND id = $2 RETURNING deleted_at`, tenantID, id).Scan(&deletedAt); err != nil {
			return err
		}
		// Out of the dashboard's counts and the search index (dashboard.go): tasks are not restored.
		if err := syncTaskDerived(ctx, tx, tenantID, cur.ProjectID, id, &cur, nil); err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "task", EntityID: id, Action: activity.Deleted,
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeTaskDeleted, pubsub.TaskDeleted{
			TaskID: id, ProjectID: cur.ProjectID, DeletedAt: deletedAt, ActorID: actorID,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete task %s: %w", id, err)
	}
	return nil
}

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
	req, err := page.Parse(url.Values{"limit": q["limit"]}, nil, "")
	var fe valid.Errors
	if errors.As(err, &fe) {
		errs = append(errs, fe...)
	}
	tq.Limit = req.Limit
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
	pg := page.Page[Task]{Items: items}
	if pg.Items == nil {
		pg.Items = []Task{}
	}
	if len(items) > q.Limit {
		pg.Items = items[:q.Limit]
		next := cursorOf(q.cursors, scope, q.Order, pg.Items[q.Limit-1])
		pg.NextCursor = &next
	}
	return pg, nil
}
