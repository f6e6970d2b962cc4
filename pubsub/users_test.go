package pubsub

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestUserPayloads pins the JSON field names consumers (the notifier, exporters) read.
func TestUserPayloads(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	tests := []struct {
		typ     string
		payload any
		keys    []string
	}{
		{TypeUserInvited, UserInvited{InvitationID: id, ExpiresAt: time.Now()}, []string{"email", "expires_at", "invitation_id", "invited_by",
			"inviter_email", "inviter_name", "role", "tenant_id", "tenant_name", "tenant_slug", "token"}},
		{TypeInvitationRevoked, InvitationRevoked{}, []string{"actor_id", "email", "invitation_id", "role"}},
		{TypeUserJoined, UserJoined{Via: JoinedByAdmin}, []string{"actor_id", "email", "identity_id", "name", "role", "via"}},
		{TypeUserJoined, UserJoined{Via: JoinedByInvitation, InvitationID: &id}, []string{"actor_id", "email", "identity_id", "invitation_id", "name", "role", "via"}},
		{TypeUserRoleChanged, UserRoleChanged{}, []string{"actor_id", "identity_id", "new_role", "old_role"}},
		{TypeUserRemoved, UserRemoved{}, []string{"actor_id", "email", "identity_id", "role"}},
	}
	for _, tc := range tests {
		if topic, ok := TopicOf(tc.typ); !ok || topic != TopicMembers {
			t.Errorf("%s is published to %q, want %q", tc.typ, topic, TopicMembers)
		}
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
			t.Errorf("%s payload keys %v, want %v", tc.typ, keys, tc.keys)
		}
	}
}
