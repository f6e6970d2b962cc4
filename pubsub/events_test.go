package pubsub

import "testing"

func TestEveryTypeHasATopic(t *testing.T) {
	t.Parallel()
	if len(Types()) < 4 {
		t.Fatalf("catalogue lists %d types", len(Types()))
	}
	for _, typ := range []string{TypeTenantCreated, TypeProjectCreated, TypeProjectUpdated, TypeProjectDeleted, TypeUserInvited, TypePasswordResetRequested} {
		if _, ok := TopicOf(typ); !ok {
			t.Errorf("event type %s has no topic", typ)
		}
	}
	if _, ok := TopicOf("no.such"); ok {
		t.Error("an unknown type was given a topic")
	}
}
