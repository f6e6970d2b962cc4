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
	"github.com/coditect/hyperscale/shared/obs"
)

// instance is the function this process serves. Main builds it before serving, so that a configuration
// error stops the start with a logged reason; a process that serves without Main builds it on its first
// request, which then answers 503 while the reason is logged.
type instance struct {
	name  string
	build func(*Env) http.Handler
	parts []Loader
	// newEnv builds the Env; nil means from the process environment (tests set their own).
	newEnv func(context.Context) (*Env, error)

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
// made from the process environment, after parts (the pieces of the function's configuration beyond Config)
// have loaded: by Main before it serves, or else on the first request.
func Register(name string, build func(*Env) http.Handler, parts ...Loader) {
	in := &instance{name: name, build: build, parts: parts}
	registeredMu.Lock()
	registered = append(registered, in)
	registeredMu.Unlock()
	functions.HTTP(name, in.ServeHTTP)
}

// Loader is a piece of one function's configuration beyond Config (and what is built from it), registered
// with Register: it loads and validates once per instance, before the function is built.
type Loader interface {
	Load(ctx context.Context, env *Env) error
}

// Part is a Loader of a T, such as the SSO configuration or the attachment store built from the storage
// configuration, that the function's routes get with Get.
type Part[T any] struct {
	load func(context.Context, *Env) (T, error)

	mu    sync.Mutex
	env   *Env
	value T
}

// NewPart returns the part that load reads from the environment, validates and builds.
func NewPart[T any](load func(ctx context.Context, env *Env) (T, error)) *Part[T] {
	return &Part[T]{load: load}
}

// Load loads the part for env and keeps it for Get.
func (p *Part[T]) Load(ctx context.Context, env *Env) error {
	v, err := p.load(ctx, env)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.env, p.value = env, v
	return nil
}

// Get returns the part loaded for env at start. For an Env whose instance did not load it (tests and the dev
// server build their own Env and call the function's constructor) it loads the part now.
func (p *Part[T]) Get(ctx context.Context, env *Env) (T, error) {
	p.mu.Lock()
	if env != nil && p.env == env {
		defer p.mu.Unlock()
		return p.value, nil
	}
	p.mu.Unlock()
	return p.load(ctx, env)
}

// envFromEnvironment loads Config from the process environment and builds the Env on it.
func envFromEnvironment(ctx context.Context) (*Env, error) {
	var cfg Config
	if err := config.Load(ctx, &cfg); err != nil {
		return nil, err
	}
	return NewEnv(ctx, cfg)
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
	newEnv := in.newEnv
	if newEnv == nil {
		newEnv = envFromEnvironment
	}
	env, err := newEnv(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	for _, p := range in.parts {
		if err := p.Load(ctx, env); err != nil {
			env.Close()
			return nil, err
		}
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
//
// Before serving, Main loads and validates the whole configuration (Config and the function's registered
// parts) and builds the function: an error there is returned, so the process exits rather than serving 503s.
// It logs JSON from its first line, with the function's own logger as slog's default once it is built.
func Main(name string) error {
	slog.SetDefault(obs.NewLogger(os.Stdout, slog.LevelInfo, name))
	if os.Getenv("FUNCTION_TARGET") == "" {
		// One function per binary, served at "/" so it sees the full path the gateway forwards.
		_ = os.Setenv("FUNCTION_TARGET", name)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	in := lookup(name)
	if in == nil {
		return fmt.Errorf("start %s: no function of that name is registered", name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if _, err := in.get(ctx); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	slog.SetDefault(in.env.Log)
	errc := make(chan error, 1)
	go func() { errc <- funcframework.Start(port) }()
	slog.Info("serving", "function", name, "port", port)
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", name, err)
	case <-ctx.Done():
	}
	drain, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if err := Shutdown(drain); err != nil {
		return fmt.Errorf("shut down %s: %w", name, err)
	}
	slog.Info("shut down cleanly", "function", name)
	return nil
}

// lookup returns the registered function name, or nil.
func lookup(name string) *instance {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	for _, in := range registered {
		if in.name == name {
			return in
		}
	}
	return nil
}
