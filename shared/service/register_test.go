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
