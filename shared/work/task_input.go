package work

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// Limits on a task's fields, matching the table's check constraints.
const (
	MaxTaskTitleLength       = 500
	MaxTaskDescriptionLength = 20000
	MaxTaskLabels            = 20
	MaxLabelLength           = 50
)

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
