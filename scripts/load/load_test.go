package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	oneToHundred := make([]int, 100)
	for i := range oneToHundred {
		oneToHundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty p50", nil, 50, 0},
		{"empty max", []time.Duration{}, 100, 0},
		{"one value p0", ms(7), 0, 7 * time.Millisecond},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"one value max", ms(7), 100, 7 * time.Millisecond},
		{"two values p50", ms(1, 2), 50, 1 * time.Millisecond},
		{"two values p51", ms(1, 2), 51, 2 * time.Millisecond},
		{"ten p50", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{"ten p90", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"ten p99", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"ten p0 is the minimum", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0, 1 * time.Millisecond},
		{"negative p is the minimum", ms(1, 2, 3), -5, 1 * time.Millisecond},
		{"above 100 is the maximum", ms(1, 2, 3), 150, 3 * time.Millisecond},
		{"hundred p50", ms(oneToHundred...), 50, 50 * time.Millisecond},
		{"hundred p90", ms(oneToHundred...), 90, 90 * time.Millisecond},
		{"hundred p99", ms(oneToHundred...), 99, 99 * time.Millisecond},
		{"hundred p99.9", ms(oneToHundred...), 99.9, 100 * time.Millisecond},
		{"ties", ms(5, 5, 5, 5), 50, 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	lat := []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}
	r := summarize("get", lat, 1, map[string]int{"500": 1}, 2*time.Second)
	want := opReport{Op: "get", Count: 4, Errors: 1, ErrorRate: 0.25, ErrorKinds: map[string]int{"500": 1}, Throughput: 2,
		Latency: latencyReport{P50: 2, P90: 4, P99: 4, Max: 4}}
	if r.Op != want.Op || r.Count != want.Count || r.Errors != want.Errors || r.ErrorRate != want.ErrorRate ||
		r.Throughput != want.Throughput || r.Latency != want.Latency {
		t.Errorf("summarize = %+v, want %+v", r, want)
	}
	if empty := summarize("list", nil, 0, nil, time.Second); empty.Count != 0 || empty.ErrorRate != 0 || empty.Latency != (latencyReport{}) {
		t.Errorf("summarize(no requests) = %+v", empty)
	}
}

func TestCheckTarget(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "example.com":
			return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
		case "loop.test":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
		case "split.test": // one loopback and one public address: refused
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3")}, nil
		case "empty.test":
			return nil, nil
		}
		return nil, errors.New("no such host")
	}
	for _, tc := range []struct {
		url  string
		want string // the origin, or "" when refused
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"http://127.1.2.3", "http://127.1.2.3"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://LOCALHOST:8080", "http://LOCALHOST:8080"},
		{"http://localhost.:8080", "http://localhost.:8080"},
		{"https://localhost", "https://localhost"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://[::ffff:127.0.0.1]:8080", "http://[::ffff:127.0.0.1]:8080"},
		{"http://loop.test:8080", "http://loop.test:8080"},
		{"http://10.0.0.1:8080", ""},
		{"http://0.0.0.0:8080", ""},
		{"http://192.168.1.10", ""},
		{"http://[::]:8080", ""},
		{"http://[2001:db8::1]:8080", ""},
		{"http://example.com", ""},
		{"https://example.com:443", ""},
		{"http://split.test", ""},
		{"http://empty.test", ""},
		{"http://unknown.test", ""},
		{"http://localhost.example.com", ""},
		{"ftp://localhost", ""},
		{"localhost:8080", ""},
		{"http://", ""},
		{"http://localhost:8080/v1", ""},
		{"http://localhost:8080?x=1", ""},
		{"://bad", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			got, err := checkTarget(context.Background(), tc.url, lookup)
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("checkTarget(%q) = %v, want it refused", tc.url, got)
			case tc.want != "" && err != nil:
				t.Errorf("checkTarget(%q): %v", tc.url, err)
			case tc.want != "" && got.String() != tc.want:
				t.Errorf("checkTarget(%q) = %v, want %s", tc.url, got, tc.want)
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		address string
		ok      bool
	}{
		{"127.0.0.1:8080", true},
		{"127.255.0.9:80", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{"10.0.0.1:8080", false},
		{"0.0.0.0:8080", false},
		{"93.184.215.14:443", false},
		{"[2001:db8::1]:80", false},
		{"localhost:8080", false}, // the dialer only ever passes addresses
		{"127.0.0.1", false},
	} {
		err := loopbackOnly("tcp", tc.address, nil)
		if (err == nil) != tc.ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok=%v", tc.address, err, tc.ok)
		}
	}
}

func TestScenarioPick(t *testing.T) {
	for _, tc := range []struct {
		scenario scenario
		r        float64
		want     op
	}{
		{scenarioList, 0, opList},
		{scenarioList, 0.99, opList},
		{scenarioGet, 0.95, opGet},
		{scenarioCreate, 0.1, opCreate},
		{scenarioMix, 0, opGet},
		{scenarioMix, 0.6999, opGet},
		{scenarioMix, 0.70, opList},
		{scenarioMix, 0.8999, opList},
		{scenarioMix, 0.90, opCreate},
		{scenarioMix, 0.999999, opCreate},
	} {
		if got := tc.scenario.pick(tc.r); got != tc.want {
			t.Errorf("%s.pick(%v) = %s, want %s", tc.scenario, tc.r, got, tc.want)
		}
	}
}

func TestScenarioMixShares(t *testing.T) {
	var counts [numOps]int
	const n = 10000
	for i := range n {
		counts[scenarioMix.pick((float64(i)+0.5)/n)]++
	}
	if counts[opGet] != 7000 || counts[opList] != 2000 || counts[opCreate] != 1000 {
		t.Errorf("mix over a uniform grid = get %d, list %d, create %d; want 7000, 2000, 1000",
			counts[opGet], counts[opList], counts[opCreate])
	}
}

func TestParseScenario(t *testing.T) {
	for _, s := range []string{"list", "get", "create", "mix"} {
		if got, err := parseScenario(s); err != nil || string(got) != s {
			t.Errorf("parseScenario(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "MIX", "delete"} {
		if _, err := parseScenario(s); err == nil {
			t.Errorf("parseScenario(%q) accepted", s)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		ok    bool
		check func(config) bool
	}{
		{"defaults", nil, true, func(c config) bool {
			return c.rawURL == "http://localhost:8080" && c.duration == 15*time.Second && c.concurrency == 8 &&
				c.requests == 0 && c.projects == 200 && c.scenario == scenarioMix && c.maxErrorRate == 0.01 && !c.json
		}},
		{"duration capped", []string{"-duration", "1h"}, true, func(c config) bool { return c.duration == maxDuration }},
		{"concurrency capped", []string{"-concurrency", "10000"}, true, func(c config) bool { return c.concurrency == maxConcurrency }},
		{"list needs no projects", []string{"-scenario", "list", "-projects", "0"}, true, nil},
		{"get needs projects", []string{"-scenario", "get", "-projects", "0"}, false, nil},
		{"zero duration", []string{"-duration", "0s"}, false, nil},
		{"zero concurrency", []string{"-concurrency", "0"}, false, nil},
		{"negative requests", []string{"-requests", "-1"}, false, nil},
		{"too many projects", []string{"-projects", "1000000"}, false, nil},
		{"bad scenario", []string{"-scenario", "delete"}, false, nil},
		{"bad error rate", []string{"-max-error-rate", "2"}, false, nil},
		{"extra argument", []string{"extra"}, false, nil},
		{"unknown flag", []string{"-nope"}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseFlags(tc.args, new(bytes.Buffer))
			if (err == nil) != tc.ok {
				t.Fatalf("parseFlags(%q) error = %v, want ok=%v", tc.args, err, tc.ok)
			}
			if tc.check != nil && !tc.check(c) {
				t.Errorf("parseFlags(%q) = %+v", tc.args, c)
			}
		})
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080", "http://[2001:db8::1]:8080", "http://0.0.0.0:8080"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"-url", u, "-duration", "1s"}, &stdout, &stderr); code != exitUsage {
			t.Errorf("run -url %s = exit %d, want %d", u, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), "not a loopback address") {
			t.Errorf("run -url %s: stderr %q does not explain the refusal", u, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("run -url %s printed a report: %s", u, stdout.String())
		}
	}
}

// fakeAPI is the part of the platform the generator uses, in memory.
type fakeAPI struct {
	failGets bool // answer every GET /v1/projects/{id} with 500

	mu       sync.Mutex
	token    string
	projects map[string]bool
	order    []string

	signUps, creates, lists, gets, unauthorized atomic.Int64
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func (f *fakeAPI) handler() http.Handler {
	f.projects = map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tenants", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name  string `json:"name"`
			Slug  string `json:"slug"`
			Owner struct {
				Email, Password, Name string
			} `json:"owner"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" || !slugPattern.MatchString(in.Slug) ||
			len(in.Owner.Password) < 12 || !strings.Contains(in.Owner.Email, "@") || in.Owner.Name == "" {
			http.Error(w, `{"code":"invalid"}`, http.StatusUnprocessableEntity)
			return
		}
		f.signUps.Add(1)
		f.mu.Lock()
		f.token = "tok-" + uuid.NewString()
		tok := f.token
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"tenant":       map[string]any{"id": uuid.NewString(), "slug": in.Slug, "name": in.Name},
			"access_token": tok, "refresh_token": "r", "token_type": "Bearer", "expires_in": 900,
		})
	})
	mux.HandleFunc("POST /v1/projects", f.auth(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name, Description string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" {
			http.Error(w, `{"code":"invalid"}`, http.StatusUnprocessableEntity)
			return
		}
		f.creates.Add(1)
		id := uuid.NewString()
		f.mu.Lock()
		f.projects[id] = true
		f.order = append(f.order, id)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "name": in.Name, "description": in.Description})
	}))
	mux.HandleFunc("GET /v1/projects", f.auth(func(w http.ResponseWriter, r *http.Request) {
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit < 1 || limit > 100 {
			http.Error(w, `{"code":"invalid_limit"}`, http.StatusUnprocessableEntity)
			return
		}
		f.lists.Add(1)
		f.mu.Lock()
		items := []map[string]any{}
		for _, id := range f.order[:min(limit, len(f.order))] {
			items = append(items, map[string]any{"id": id})
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "next_cursor": nil})
	}))
	mux.HandleFunc("GET /v1/projects/{id}", f.auth(func(w http.ResponseWriter, r *http.Request) {
		f.gets.Add(1)
		if f.failGets {
			http.Error(w, `{"code":"internal"}`, http.StatusInternalServerError)
			return
		}
		f.mu.Lock()
		ok := f.projects[r.PathValue("id")]
		f.mu.Unlock()
		if !ok {
			http.Error(w, `{"code":"not_found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": r.PathValue("id")})
	}))
	return mux
}

func (f *fakeAPI) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		want := "Bearer " + f.token
		f.mu.Unlock()
		if want == "Bearer " || r.Header.Get("Authorization") != want {
			f.unauthorized.Add(1)
			http.Error(w, `{"code":"unauthenticated"}`, http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// runAgainst runs the command with -json against f and returns its exit code and report.
func runAgainst(t *testing.T, f *fakeAPI, args ...string) (int, report) {
	t.Helper()
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"-url", srv.URL, "-json"}, args...), &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not a JSON report: %v\n%s", code, err, stdout.String())
	}
	return code, rep
}

func TestEndToEndMix(t *testing.T) {
	f := &fakeAPI{}
	code, rep := runAgainst(t, f, "-duration", "1s", "-concurrency", "4", "-projects", "20", "-timeout", "5s")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; report %+v", code, rep)
	}
	if rep.Setup.Projects != 20 || !strings.HasPrefix(rep.Setup.Slug, "load-") || len(rep.Setup.Slug) != len("load-")+8 {
		t.Errorf("setup = %+v, want 20 projects in a load-<8 hex> organization", rep.Setup)
	}
	if f.signUps.Load() != 1 || f.unauthorized.Load() != 0 {
		t.Errorf("sign-ups %d, unauthorized %d; want 1 and 0", f.signUps.Load(), f.unauthorized.Load())
	}
	if rep.Total.Count == 0 || rep.Total.Errors != 0 || !rep.Pass || len(rep.ErrorSamples) != 0 {
		t.Errorf("total = %+v, samples %v; want requests and no errors", rep.Total, rep.ErrorSamples)
	}
	// The run ends at its deadline, and a request still in flight then is cut off by it, or at the latest by
	// its own -timeout: bounds from the configuration, not from how busy the machine is.
	if rep.Elapsed < 0.99 || rep.Elapsed > 1+5 {
		t.Errorf("elapsed %.3fs, want from the 1s duration to that plus the 5s request timeout", rep.Elapsed)
	}
	byOp := map[string]opReport{}
	sum := 0
	for _, r := range rep.Operations {
		byOp[r.Op] = r
		sum += r.Count
		if r.Count == 0 {
			t.Errorf("%s: no requests in a 1s mix", r.Op)
		}
		if r.Latency.P50 <= 0 || r.Latency.P50 > r.Latency.P90 || r.Latency.P90 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
			t.Errorf("%s: latencies %+v are not ordered", r.Op, r.Latency)
		}
	}
	if sum != rep.Total.Count {
		t.Errorf("operations add up to %d, total says %d", sum, rep.Total.Count)
	}
	// Every counted request reached the server; the server may also have seen the few cut off at the end.
	for _, c := range []struct {
		op     string
		server int64
	}{{"get", f.gets.Load()}, {"list", f.lists.Load()}, {"create", f.creates.Load() - 20}} {
		got := int64(byOp[c.op].Count)
		if got > c.server || c.server > got+4 {
			t.Errorf("%s: report counts %d, server served %d", c.op, got, c.server)
		}
	}
	// The mix is random: allow five standard deviations of a binomial share around 0.7, which a busy machine
	// sending few requests widens instead of failing.
	n := float64(rep.Total.Count)
	if g, tol := float64(byOp["get"].Count)/n, 5*math.Sqrt(0.7*0.3/n); math.Abs(g-0.7) > tol {
		t.Errorf("get share %.2f of %d requests, want 0.7 ± %.2f", g, rep.Total.Count, tol)
	}
}

func TestEndToEndRequestCap(t *testing.T) {
	f := &fakeAPI{}
	code, rep := runAgainst(t, f, "-duration", "1m", "-concurrency", "8", "-requests", "50", "-scenario", "list", "-projects", "3")
	if code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	if rep.Total.Count != 50 || f.lists.Load() != 50 || len(rep.Operations) != 1 || rep.Operations[0].Op != "list" {
		t.Errorf("report %+v, server lists %d; want exactly 50 list requests", rep, f.lists.Load())
	}
	if rep.Elapsed > 30 {
		t.Errorf("capped run took %.1fs of its 1m; it should stop at the cap, not the duration", rep.Elapsed)
	}
}

func TestEndToEndErrors(t *testing.T) {
	f := &fakeAPI{failGets: true}
	code, rep := runAgainst(t, f, "-duration", "10s", "-concurrency", "2", "-requests", "20", "-scenario", "get", "-projects", "2")
	if code != exitFailed {
		t.Errorf("exit %d, want %d for a 100%% error rate", code, exitFailed)
	}
	if rep.Total.Count != 20 || rep.Total.Errors != 20 || rep.Total.ErrorRate != 1 || rep.Pass {
		t.Errorf("total = %+v, want 20 requests, all failed", rep.Total)
	}
	if rep.Total.ErrorKinds["500"] != 20 {
		t.Errorf("error kinds %v, want 500×20", rep.Total.ErrorKinds)
	}
	if len(rep.ErrorSamples) != maxErrorSamples || rep.ErrorSamples[0].Status != 500 || !strings.Contains(rep.ErrorSamples[0].Detail, "internal") {
		t.Errorf("error samples %+v, want %d samples of the 500 answer", rep.ErrorSamples, maxErrorSamples)
	}
	// A higher threshold lets the same run pass.
	if code, _ := runAgainst(t, &fakeAPI{failGets: true}, "-requests", "5", "-scenario", "get", "-projects", "1", "-max-error-rate", "1"); code != exitOK {
		t.Errorf("exit %d with -max-error-rate 1, want 0", code)
	}
}

func TestEndToEndTable(t *testing.T) {
	srv := httptest.NewServer((&fakeAPI{}).handler())
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-url", srv.URL, "-requests", "30", "-projects", "5"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"scenario mix", "requests", "p50", "p99", "\nget ", "\nlist ", "\ncreate ", "\ntotal "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestEndToEndSetupFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-url", srv.URL, "-duration", "1s"}, &stdout, &stderr); code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if !strings.Contains(stderr.String(), "503") {
		t.Errorf("stderr %q does not show the failed sign-up", stderr.String())
	}
}

func TestEndToEndCancel(t *testing.T) {
	srv := httptest.NewServer((&fakeAPI{}).handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-url", srv.URL, "-duration", "1m", "-projects", "5", "-json"}, &stdout, &stderr)
	// Half the configured minute: far above any scheduling delay, far below a run that ignored the cancel.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("cancelled run took %s of its 1m", took)
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, no report: %v\n%s", code, err, stderr.String())
	}
	if !rep.Interrupted || code != exitOK || rep.Total.Errors != 0 {
		t.Errorf("exit %d, report %+v; want an interrupted run without errors", code, rep)
	}
}
