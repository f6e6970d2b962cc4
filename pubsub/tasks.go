package pubsub

import (
	"time"

	"github.com/google/uuid"
)

// TaskRef names a task and its project. Every event of a task, and of its comments and attachments, carries
// it, so a consumer routes any of them by project without reading the task.
type TaskRef struct {
	TaskID    uuid.UUID `json:"task_id"`
	ProjectID uuid.UUID `json:"project_id"`
}

// TaskCreated is the payload of task.created. A task created with an assignee also raises task.assigned, so a
// consumer that notifies assignees listens to that one event only.
type TaskCreated struct {
	TaskRef
	Title      string     `json:"title"`
	Status     string     `json:"status"`
	Priority   string     `json:"priority"`
	AssigneeID *uuid.UUID `json:"assignee_id"`
	// DueDate is "YYYY-MM-DD", or null.
	DueDate *string   `json:"due_date"`
	ActorID uuid.UUID `json:"actor_id"`
}

// TaskAssigned is the payload of task.assigned: a task's assignee became AssigneeID (on creation or by an
// update). PreviousAssigneeID is null when the task had no assignee before. Clearing the assignee raises
// task.updated instead.
type TaskAssigned struct {
	TaskRef
	Title              string     `json:"title"`
	AssigneeID         uuid.UUID  `json:"assignee_id"`
	PreviousAssigneeID *uuid.UUID `json:"previous_assignee_id"`
	ActorID            uuid.UUID  `json:"actor_id"`
}

// TaskStatusChanged is the payload of task.status_changed.
type TaskStatusChanged struct {
	TaskRef
	OldStatus string    `json:"old_status"`
	NewStatus string    `json:"new_status"`
	ActorID   uuid.UUID `json:"actor_id"`
}

// TaskUpdated is the payload of task.updated: fields other than those with an event of their own changed.
// Changed lists them ("title", "description", "priority", "due_date", "labels", "position", and
// "assignee_id" when the assignee was cleared); a status change raises task.status_changed and a new assignee
// task.assigned, so one write may raise several events.
type TaskUpdated struct {
	TaskRef
	Changed []string  `json:"changed"`
	ActorID uuid.UUID `json:"actor_id"`
}

// TaskDeleted is the payload of task.deleted (a soft delete).
type TaskDeleted struct {
	TaskRef
	DeletedAt time.Time `json:"deleted_at"`
	ActorID   uuid.UUID `json:"actor_id"`
}
