package pubsub

// Types lists every event type of the catalogue, for the tests that check the catalogue is whole.
func Types() []string {
	out := make([]string, 0, len(topics))
	for t := range topics {
		out = append(out, t)
	}
	return out
}
