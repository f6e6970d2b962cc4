// Package tasks is the tasks function: tasks by id, their comments and attachments, the activity trail,
// search and the dashboard.
package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

func init() { service.Register("tasks", New, attachmentsPart) }

// New builds the function's handler over env.
func New(env *service.Env) http.Handler {
	mux := env.Mux()
	registerTasks(env, mux)
	registerComments(env, mux)
	registerAttachments(env, mux)
	registerInsights(env, mux)
	return env.Handler(mux)
}
