package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/token"
)

// TestShutdownDrainsThenCloses holds a request in flight, shuts down, and checks the order: new requests are
// refused, the one in flight completes, and only then are the pools closed.
func TestShutdownDrainsThenCloses(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	keys, err := token.GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	env := WithKeys(Config{}, slog.New(slog.DiscardHandler), d.DB, keys)

	entered, release := make(chan struct{}), make(chan struct{})
	in := &instance{name: "slow"}
	in.env = env
	in.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		// The pool must still be open while a request is being served.
		if err := env.DB.Directory.Ping(r.Context()); err != nil {
			t.Errorf("pool closed under an in-flight request: %v", err)
		}
		w.WriteHeader(http.StatusOK)
	})

	first := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		in.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		first <- rec.Code
	}()
	<-entered

	done := make(chan error)
	go func() { done <- in.shutdown(context.Background()) }()
	for !in.draining.Load() {
		time.Sleep(time.Millisecond)
	}
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Connection") != "close" {
		t.Fatalf("request during drain: %d, Connection %q; want 503 and close", rec.Code, rec.Header().Get("Connection"))
	}
	select {
	case err := <-done:
		t.Fatalf("shutdown returned (%v) while a request was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Fatalf("in-flight request answered %d, want 200", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := env.DB.Directory.Ping(context.Background()); err == nil {
		t.Fatal("pool still open after shutdown")
	}
}

func TestShutdownGivesUpAtTheDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{})
	in := &instance{name: "stuck", handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})}
	go in.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := in.shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown = %v, want the deadline", err)
	}
}

func TestMisconfiguredFunctionAnswers503(t *testing.T) {
	t.Setenv("ENV", "nowhere")
	in := &instance{name: "broken", build: func(*Env) http.Handler { t.Fatal("built despite a bad config"); return nil }}
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s, want a 503 problem", rec.Code, body)
	}
}

// testEnv returns an Env over a test database, built without the process environment.
func testEnv(t *testing.T) *Env {
	t.Helper()
	keys, err := token.GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	return WithKeys(Config{}, slog.New(slog.DiscardHandler), dbtest.New(t).DB, keys)
}

// An instance loads its parts before it builds the function: a part that fails stops the build with its
// error, and a built function gets the parts loaded for its Env without loading them again.
func TestPartsLoadBeforeTheBuild(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	loads := 0
	good := NewPart(func(_ context.Context, e *Env) (string, error) {
		loads++
		if e != env {
			return "another env's", nil
		}
		return "loaded", nil
	})
	bad := NewPart(func(context.Context, *Env) (int, error) { return 0, errors.New("SSO_STATE_KEY: the key is not base64") })

	failing := &instance{name: "bad part", parts: []Loader{good, bad}, newEnv: func(context.Context) (*Env, error) { return env, nil },
		build: func(*Env) http.Handler { t.Fatal("built despite a part that did not load"); return nil }}
	if _, err := failing.get(context.Background()); err == nil || err.Error() != "SSO_STATE_KEY: the key is not base64" {
		t.Fatalf("start with a bad part = %v, want its error", err)
	}
	if failing.handler != nil || failing.env != nil {
		t.Fatal("a failed start kept a handler or an Env")
	}

	loads = 0
	var got string
	ok := &instance{name: "good", parts: []Loader{good}, newEnv: func(context.Context) (*Env, error) { return env, nil },
		build: func(e *Env) http.Handler {
			v, err := good.Get(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			got = v
			return http.NotFoundHandler()
		}}
	if _, err := ok.get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got != "loaded" || loads != 1 {
		t.Fatalf("the build got %q after %d loads, want the part loaded once at start", got, loads)
	}
	// An Env the instance did not start (the dev server's, a test's) loads the part on the spot.
	if v, err := good.Get(context.Background(), testEnv(t)); err != nil || v != "another env's" || loads != 2 {
		t.Fatalf("Get for another Env = %q, %v after %d loads", v, err, loads)
	}
}

// Main fails before serving when the function cannot start, and for a name nobody registered.
func TestMainReturnsStartErrors(t *testing.T) {
	t.Setenv("FUNCTION_TARGET", "main-test")
	t.Setenv("PORT", "0")
	defer slog.SetDefault(slog.Default())
	in := &instance{name: "main-test-broken", newEnv: func(context.Context) (*Env, error) { return nil, errors.New("DATABASE_URL is required") },
		build: func(*Env) http.Handler { t.Fatal("built despite a bad config"); return nil }}
	registeredMu.Lock()
	registered = append(registered, in)
	registeredMu.Unlock()
	done := make(chan error, 1)
	go func() { done <- Main("main-test-broken") }()
	select {
	case err := <-done:
		if err == nil || err.Error() != "start main-test-broken: DATABASE_URL is required" {
			t.Fatalf("Main = %v, want the start error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Main is serving a function that cannot start")
	}
	if err := Main("never-registered"); err == nil {
		t.Fatal("Main of an unregistered function returned nil")
	}
}
