package pubsub

import "testing"

func TestEveryTypeHasATopic(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{TypeTenantCreated, TypeProjectCreated, TypeProjectUpdated, TypeProjectDeleted} {
		if _, ok := TopicOf(typ); !ok {
			t.Errorf("event type %s has no topic", typ)
		}
	}
	if _, ok := TopicOf("no.such"); ok {
		t.Error("an unknown type was given a topic")
	}
}
