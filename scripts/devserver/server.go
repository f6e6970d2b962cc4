package main

import (
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/coditect/hyperscale/functions/auth"
	"github.com/coditect/hyperscale/functions/projects"
	"github.com/coditect/hyperscale/functions/tasks"
	"github.com/coditect/hyperscale/functions/tenants"
	"github.com/coditect/hyperscale/functions/users"
	"github.com/coditect/hyperscale/scripts/gateway"
	"github.com/coditect/hyperscale/shared/service"
)

// functions is every HTTP function the platform has, by the name the gateway document routes to.
var functions = map[string]func(*service.Env) http.Handler{
	"auth":     auth.New,
	"projects": projects.New,
	"tasks":    tasks.New,
	"tenants":  tenants.New,
	"users":    users.New,
}

// platform builds every function over env and routes to them exactly as the gateway document at docPath
// says, so what runs locally routes as production does.
func platform(env *service.Env, docPath string) (http.Handler, error) {
	routes, err := gateway.LoadFile(docPath)
	if err != nil {
		return nil, err
	}
	handlers := make(map[string]http.Handler, len(functions))
	for name, build := range functions {
		handlers[name] = build(env)
	}
	mux, err := gateway.NewMux(routes, handlers)
	if err != nil {
		return nil, fmt.Errorf("route gateway document: %w", err)
	}
	// The gateway does not route health checks; locally one answers for the whole platform.
	mux.Handle(service.HealthRoute, env.Handler(env.Mux()))
	if err := handleDocs(mux, docPath, filepath.Join(repositoryRoot(docPath), docsAssets)); err != nil {
		return nil, err
	}
	return mux, nil
}
