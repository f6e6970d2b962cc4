package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/httpx"
)

// instance is the function this process serves, built on its first request: Cloud Run starts instances on
// demand, and a configuration error should answer 503 and be logged rather than crash-loop without a word.
type instance struct {
	name  string
	build func(*Env) http.Handler

	mu      sync.Mutex
	env     *Env
	handler http.Handler

	inflight sync.WaitGroup
	draining atomic.Bool
}

var (
	registered   []*instance
	registeredMu sync.Mutex
)

// Register registers the HTTP function name with the Functions Framework. build is called once, with an Env
// made from the process environment, when the first request arrives.
func Register(name string, build func(*Env) http.Handler) {
	in := &instance{name: name, build: build}
	registeredMu.Lock()
	registered = append(registered, in)
	registeredMu.Unlock()
	functions.HTTP(name, in.ServeHTTP)
}

func (in *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if in.draining.Load() {
		// After SIGTERM Cloud Run routes no new requests here; one that still arrives goes elsewhere.
		w.Header().Set("Connection", "close")
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusServiceUnavailable, "shutting_down", "the instance is shutting down; retry"))
		return
	}
	in.inflight.Add(1)
	defer in.inflight.Done()
	h, err := in.get(r.Context())
	if err != nil {
		slog.Error("function failed to start", "function", in.name, "error", err.Error())
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusServiceUnavailable, "unavailable", "the service is misconfigured or starting; retry shortly"))
		return
	}
	h.ServeHTTP(w, r)
}

func (in *instance) get(ctx context.Context) (http.Handler, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.handler != nil {
		return in.handler, nil
	}
	var cfg Config
	if err := config.Load(ctx, &cfg); err != nil {
		return nil, err
	}
	env, err := NewEnv(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, err
	}
	in.env, in.handler = env, in.build(env)
	return in.handler, nil
}

// shutdown stops admitting requests, waits for those in flight (until ctx ends) and closes the pools.
func (in *instance) shutdown(ctx context.Context) error {
	in.draining.Store(true)
	done := make(chan struct{})
	go func() { in.inflight.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("%s: requests still in flight: %w", in.name, ctx.Err())
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.env != nil {
		in.env.Close()
	}
	return err
}

// Shutdown drains and closes every registered function of this process.
func Shutdown(ctx context.Context) error {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	var errs []error
	for _, in := range registered {
		errs = append(errs, in.shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Main serves the function name through the Functions Framework on $PORT until SIGTERM or interrupt, then
// drains in-flight requests and closes the pools (the framework has no shutdown hook of its own, see
// functions-framework-go#271). Cloud Run allows ten seconds between SIGTERM and SIGKILL.
func Main(name string) {
	if os.Getenv("FUNCTION_TARGET") == "" {
		// One function per binary, served at "/" so it sees the full path the gateway forwards.
		_ = os.Setenv("FUNCTION_TARGET", name)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- funcframework.Start(port) }()
	slog.Info("serving", "function", name, "port", port)
	select {
	case err := <-errc:
		slog.Error("server stopped", "function", name, "error", fmt.Sprint(err))
		os.Exit(1)
	case <-ctx.Done():
	}
	drain, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if err := Shutdown(drain); err != nil {
		slog.Error("shutdown", "function", name, "error", err.Error())
		os.Exit(1)
	}
	slog.Info("shut down cleanly", "function", name)
}
