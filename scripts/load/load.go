package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// op is one kind of request.
type op int

const (
	opGet op = iota
	opList
	opCreate
	numOps
)

func (o op) String() string {
	switch o {
	case opGet:
		return "get"
	case opList:
		return "list"
	case opCreate:
		return "create"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// scenario decides which operation each request is.
type scenario string

const (
	scenarioList   scenario = "list"
	scenarioGet    scenario = "get"
	scenarioCreate scenario = "create"
	scenarioMix    scenario = "mix"
)

// Shares of the mix scenario: 70% get, 20% list, the rest (10%) create.
const (
	mixGet  = 0.70
	mixList = 0.20
)

func parseScenario(s string) (scenario, error) {
	switch sc := scenario(s); sc {
	case scenarioList, scenarioGet, scenarioCreate, scenarioMix:
		return sc, nil
	}
	return "", fmt.Errorf("-scenario %q: want list, get, create or mix", s)
}

// pick is the operation of the next request, given r drawn uniformly from [0, 1).
func (s scenario) pick(r float64) op {
	switch s {
	case scenarioList:
		return opList
	case scenarioGet:
		return opGet
	case scenarioCreate:
		return opCreate
	}
	switch {
	case r < mixGet:
		return opGet
	case r < mixGet+mixList:
		return opList
	}
	return opCreate
}

// ops lists the operations the scenario sends, in report order.
func (s scenario) ops() []op {
	switch s {
	case scenarioList:
		return []op{opList}
	case scenarioGet:
		return []op{opGet}
	case scenarioCreate:
		return []op{opCreate}
	}
	return []op{opGet, opList, opCreate}
}

// needsProjects tells whether the scenario reads projects by id, so the setup must make some.
func (s scenario) needsProjects() bool { return s == scenarioGet || s == scenarioMix }

// api sends requests to the platform at base, with the bearer token once it has one.
type api struct {
	client *http.Client
	base   string
	token  string
}

// maxSample bounds how much of a failed answer is kept for the report.
const maxSample = 300

// exchange sends one request and reads the whole answer. On a 2xx it decodes the body into out (if not nil)
// or discards it; otherwise it returns the start of the body as sample. err is a transport or decoding error.
func (a *api) exchange(ctx context.Context, method, path string, body []byte, out any) (status int, sample string, err error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hyperscale-load")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxSample))
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, "", fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, "", err
}

// setupResult is the organization the run works in.
type setupResult struct {
	slug    string
	ids     []string
	elapsed time.Duration
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// setup signs up a fresh organization, keeps its access token in a and creates n projects in it with up to
// concurrency requests at a time.
func setup(ctx context.Context, a *api, n, concurrency int) (setupResult, error) {
	start := time.Now()
	slug := "load-" + randomHex(4)
	type owner struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	body, err := json.Marshal(struct {
		Name  string `json:"name"`
		Slug  string `json:"slug"`
		Owner owner  `json:"owner"`
	}{
		Name:  "Load test " + slug,
		Slug:  slug,
		Owner: owner{Email: slug + "@load.test", Password: randomHex(16), Name: "Load Generator"},
	})
	if err != nil {
		return setupResult{}, err
	}
	var signedUp struct {
		AccessToken string `json:"access_token"`
	}
	status, sample, err := a.exchange(ctx, http.MethodPost, "/v1/tenants", body, &signedUp)
	if err != nil {
		return setupResult{}, fmt.Errorf("sign up %s: %w", slug, err)
	}
	if status != http.StatusCreated {
		return setupResult{}, fmt.Errorf("sign up %s: status %d: %s", slug, status, sample)
	}
	if signedUp.AccessToken == "" {
		return setupResult{}, fmt.Errorf("sign up %s: no access_token in the answer", slug)
	}
	a.token = signedUp.AccessToken

	ids := make([]string, n)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(concurrency, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				id, err := createProject(ctx, a, fmt.Sprintf("setup-%d", i))
				if err != nil {
					cancel(fmt.Errorf("create project %d of %d: %w", i+1, n, err))
					return
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return setupResult{}, err
	}
	return setupResult{slug: slug, ids: ids, elapsed: time.Since(start)}, nil
}

// createProject creates one project and returns its id (setup only: the run does not decode answers).
func createProject(ctx context.Context, a *api, name string) (string, error) {
	var p struct {
		ID string `json:"id"`
	}
	status, sample, err := a.exchange(ctx, http.MethodPost, "/v1/projects", projectBody(name), &p)
	switch {
	case err != nil:
		return "", err
	case status != http.StatusCreated:
		return "", fmt.Errorf("status %d: %s", status, sample)
	case p.ID == "":
		return "", errors.New("no id in the answer")
	}
	return p.ID, nil
}

func projectBody(name string) []byte {
	b, _ := json.Marshal(struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}{Name: "load " + name, Description: "created by scripts/load"})
	return b
}

// plan is what generate runs.
type plan struct {
	scenario    scenario
	duration    time.Duration
	concurrency int
	requests    int64 // 0: no cap
	ids         []string
}

// errorSample is one failed request, for the report.
type errorSample struct {
	// Op is the operation (get, list, create).
	Op string `json:"op"`
	// Status is the HTTP status, 0 for a transport error.
	Status int `json:"status"`
	// Detail is the start of the answer's body, or the transport error.
	Detail string `json:"detail"`
}

// maxErrorSamples is how many failed requests the report shows.
const maxErrorSamples = 5

// recorder holds one worker's measurements, so workers share no lock on the hot path.
type recorder struct {
	latencies [numOps][]time.Duration
	errors    [numOps]int
	kinds     [numOps]map[string]int // "500", "transport", ... -> count
}

func (r *recorder) add(o op, d time.Duration, status int, err error) (failed bool) {
	r.latencies[o] = append(r.latencies[o], d)
	var kind string
	switch {
	case err != nil:
		kind = "transport"
	case status < 200 || status > 299:
		kind = strconv.Itoa(status)
	default:
		return false
	}
	r.errors[o]++
	if r.kinds[o] == nil {
		r.kinds[o] = map[string]int{}
	}
	r.kinds[o][kind]++
	return true
}

// samples keeps the first few failures across workers.
type samples struct {
	mu    sync.Mutex
	items []errorSample
}

func (s *samples) add(o op, status int, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) < maxErrorSamples {
		s.items = append(s.items, errorSample{Op: o.String(), Status: status, Detail: detail})
	}
}

// result is everything generate measured.
type result struct {
	elapsed     time.Duration
	interrupted bool
	latencies   [numOps][]time.Duration
	errors      [numOps]int
	kinds       [numOps]map[string]int
	samples     []errorSample
}

// generate runs p's workers until p.duration has passed, p.requests have been sent or ctx is done. A request
// cut off by the end of the run is not counted.
func generate(ctx context.Context, a *api, p plan) result {
	runCtx, cancel := context.WithTimeout(ctx, p.duration)
	defer cancel()
	recs := make([]recorder, p.concurrency)
	var sent atomic.Int64
	var fails samples
	start := time.Now()
	var wg sync.WaitGroup
	for w := range recs {
		rec := &recs[w]
		rng := mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
		wg.Go(func() { work(runCtx, a, p, rng, w, &sent, rec, &fails) })
	}
	wg.Wait()
	res := result{elapsed: time.Since(start), interrupted: ctx.Err() != nil, samples: fails.items}
	for o := range numOps {
		for w := range recs {
			res.latencies[o] = append(res.latencies[o], recs[w].latencies[o]...)
			res.errors[o] += recs[w].errors[o]
			for k, n := range recs[w].kinds[o] {
				if res.kinds[o] == nil {
					res.kinds[o] = map[string]int{}
				}
				res.kinds[o][k] += n
			}
		}
	}
	return res
}

// work is one worker's loop.
func work(ctx context.Context, a *api, p plan, rng *mrand.Rand, worker int, sent *atomic.Int64, rec *recorder, fails *samples) {
	for i := 0; ctx.Err() == nil; i++ {
		if p.requests > 0 && sent.Add(1) > p.requests {
			return
		}
		o := p.scenario.pick(rng.Float64())
		method, path, body := http.MethodGet, "", []byte(nil)
		switch o {
		case opGet:
			path = "/v1/projects/" + p.ids[rng.IntN(len(p.ids))]
		case opList:
			path = "/v1/projects?limit=20"
		case opCreate:
			method, path, body = http.MethodPost, "/v1/projects", projectBody(fmt.Sprintf("run-%d-%d", worker, i))
		}
		t0 := time.Now()
		status, sample, err := a.exchange(ctx, method, path, body, nil)
		d := time.Since(t0)
		if err != nil && ctx.Err() != nil {
			return // the run ended while this request was in flight
		}
		if rec.add(o, d, status, err) {
			if err != nil {
				sample = err.Error()
			}
			fails.add(o, status, sample)
		}
	}
}
