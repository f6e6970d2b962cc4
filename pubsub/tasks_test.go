package pubsub

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestTaskEventsGoToTheTasksTopic(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{TypeTaskCreated, TypeTaskAssigned, TypeTaskStatusChanged, TypeTaskUpdated, TypeTaskDeleted} {
		if topic, ok := TopicOf(typ); !ok || topic != TopicTasks {
			t.Errorf("TopicOf(%s) = %q, %v; want %q", typ, topic, ok, TopicTasks)
		}
		if !slices.Contains(Types(), typ) {
			t.Errorf("Types() lacks %s", typ)
		}
	}
}

// TestTaskPayloadKeys pins the JSON keys consumers read, so a renamed field shows up as a deliberate edit.
func TestTaskPayloadKeys(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	tests := []struct {
		name    string
		payload any
		keys    []string
	}{
		{"created", TaskCreated{TaskRef: TaskRef{TaskID: id}}, []string{"actor_id", "assignee_id", "due_date", "priority", "project_id", "status", "task_id", "title"}},
		{"assigned", TaskAssigned{TaskRef: TaskRef{TaskID: id}}, []string{"actor_id", "assignee_id", "previous_assignee_id", "project_id", "task_id", "title"}},
		{"status changed", TaskStatusChanged{TaskRef: TaskRef{TaskID: id}}, []string{"actor_id", "new_status", "old_status", "project_id", "task_id"}},
		{"updated", TaskUpdated{TaskRef: TaskRef{TaskID: id}}, []string{"actor_id", "changed", "project_id", "task_id"}},
		{"deleted", TaskDeleted{TaskRef: TaskRef{TaskID: id}, DeletedAt: time.Now()}, []string{"actor_id", "deleted_at", "project_id", "task_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.keys) {
				t.Fatalf("keys %v, want %v", keys, tc.keys)
			}
		})
	}
}
