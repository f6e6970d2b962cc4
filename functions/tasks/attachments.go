package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerAttachments adds the routes of task attachments in Cloud Storage to mux.
func registerAttachments(env *service.Env, mux *http.ServeMux) {}
