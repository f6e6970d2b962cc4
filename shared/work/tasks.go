package work

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/membership"
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

// ErrTaskChanged means a conditional write's If-Match named an ETag the task no longer has.
var ErrTaskChanged = fault.New(fault.PreconditionFailed, "precondition_failed", "the task changed since that ETag was read; read it again and retry with its current ETag")

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

// Tasks is the store of tasks. Assignments are checked against the directory's memberships.
type Tasks struct {
	dir     *db.Directory
	tenants *db.Tenants
}

// NewTasks returns the task store over d's directory (for assignees' memberships) and tenant handles.
func NewTasks(d *db.DB) *Tasks {
	return &Tasks{dir: d.Directory, tenants: d.Tenants}
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
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		role, err = membership.Role(ctx, tx, tenantID, identityID)
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
		evs := []activity.Event{{Type: pubsub.TypeTaskCreated, Payload: pubsub.TaskCreated{
			TaskRef: pubsub.TaskRef{TaskID: id, ProjectID: projectID}, Title: t.Title, Status: t.Status, Priority: t.Priority, AssigneeID: t.AssigneeID,
			DueDate: t.DueDate, ActorID: actorID,
		}}}
		if t.AssigneeID != nil {
			evs = append(evs, activity.Event{Type: pubsub.TypeTaskAssigned, Payload: pubsub.TaskAssigned{
				TaskRef: pubsub.TaskRef{TaskID: id, ProjectID: projectID}, Title: t.Title, AssigneeID: *t.AssigneeID, ActorID: actorID,
			}})
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "task", EntityID: id, Action: activity.Created, Changes: initial,
		}, evs...)
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
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "task", EntityID: id, Action: activity.Updated, Changes: changes,
		}, taskChangeEvents(actorID, t, old, changes)...)
	})
	if err != nil {
		return Task{}, fmt.Errorf("update task %s: %w", id, err)
	}
	return t, nil
}

// taskChangeEvents returns the events of one update: task.status_changed for a new status, task.assigned for
// a new assignee, and task.updated listing every other changed field (a cleared assignee among them).
func taskChangeEvents(actorID uuid.UUID, t Task, old taskValues, changes map[string]activity.Change) []activity.Event {
	var evs []activity.Event
	var others []string
	for _, f := range taskFields {
		if _, ok := changes[f]; !ok {
			continue
		}
		switch {
		case f == "status":
			evs = append(evs, activity.Event{Type: pubsub.TypeTaskStatusChanged, Payload: pubsub.TaskStatusChanged{
				TaskRef: pubsub.TaskRef{TaskID: t.ID, ProjectID: t.ProjectID}, OldStatus: old.status, NewStatus: t.Status, ActorID: actorID,
			}})
		case f == "assignee_id" && t.AssigneeID != nil:
			evs = append(evs, activity.Event{Type: pubsub.TypeTaskAssigned, Payload: pubsub.TaskAssigned{
				TaskRef: pubsub.TaskRef{TaskID: t.ID, ProjectID: t.ProjectID}, Title: t.Title, AssigneeID: *t.AssigneeID, PreviousAssigneeID: old.assignee, ActorID: actorID,
			}})
		default:
			others = append(others, f)
		}
	}
	if len(others) > 0 {
		evs = append(evs, activity.Event{Type: pubsub.TypeTaskUpdated, Payload: pubsub.TaskUpdated{TaskRef: pubsub.TaskRef{TaskID: t.ID, ProjectID: t.ProjectID}, Changed: others, ActorID: actorID}})
	}
	return evs
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
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "task", EntityID: id, Action: activity.Deleted,
		}, activity.Event{Type: pubsub.TypeTaskDeleted, Payload: pubsub.TaskDeleted{
			TaskRef: pubsub.TaskRef{TaskID: id, ProjectID: cur.ProjectID}, DeletedAt: deletedAt, ActorID: actorID,
		}})
	})
	if err != nil {
		return fmt.Errorf("delete task %s: %w", id, err)
	}
	return nil
}
