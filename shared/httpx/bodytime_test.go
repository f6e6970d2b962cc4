package httpx

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slowServer serves a handler that decodes a body, waits hold and answers whether its context is still live,
// with the body's read time bounded by bound.
func slowServer(t *testing.T, bound, hold time.Duration) *httptest.Server {
	t.Helper()
	h := Edge{BodyReadTimeout: bound}.Wrap(HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == http.MethodPost {
			var in struct {
				Name string `json:"name"`
			}
			if err := Decode(w, r, &in); err != nil {
				return err
			}
		}
		time.Sleep(hold)
		if err := r.Context().Err(); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestSlowBodyIsAnswered408(t *testing.T) {
	t.Parallel()
	const bound = 200 * time.Millisecond
	srv := slowServer(t, bound, 0)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Half a body, then nothing: the client stalls with the connection open.
	start := time.Now()
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"name\":"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body within 5s: %v", err)
	}
	defer resp.Body.Close()
	elapsed := time.Since(start)
	var p Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || p.Code != "request_timeout" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("stalled body answered %d %+v", resp.StatusCode, p)
	}
	if elapsed < bound || elapsed > bound+2*time.Second {
		t.Fatalf("answered after %s, want soon after the %s bound", elapsed, bound)
	}
}

func TestBodyBoundSparesRequestsSentInTime(t *testing.T) {
	t.Parallel()
	// The handler outlives the bound after reading its body (or having none): its context must stay live.
	const bound = 100 * time.Millisecond
	srv := slowServer(t, bound, 3*bound)
	for _, tc := range []struct {
		method, body string
	}{{"POST", `{"name":"a"}`}, {"GET", ""}} {
		req, err := http.NewRequest(tc.method, srv.URL, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s in time answered %d %s", tc.method, resp.StatusCode, b)
		}
	}
}

func TestEdgeConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d  time.Duration
		ok bool
	}{{10 * time.Second, true}, {time.Second, true}, {2 * time.Minute, true}, {0, false}, {500 * time.Millisecond, false}, {time.Hour, false}} {
		if err := (EdgeConfig{BodyReadTimeout: tc.d}).Validate(); (err == nil) != tc.ok {
			t.Errorf("BodyReadTimeout %s: %v, want ok %v", tc.d, err, tc.ok)
		}
	}
}
