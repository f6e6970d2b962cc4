// Command load is a small HTTP load generator for the platform's API, used for the figures in the README's
// performance section. It drives a platform running on this machine (make run):
//
//	go run ./scripts/load -url http://localhost:8080 -duration 20s -concurrency 8
//
// It first signs up a fresh organization (slug load-<8 hex>) and creates -projects projects with its access
// token. Then -concurrency workers (at most 256) send requests for -duration (at most 5m), or until -requests
// requests in all have been sent, following one -scenario:
//
//	list    GET /v1/projects?limit=20
//	get     GET /v1/projects/{id} of a random project made in the setup
//	create  POST /v1/projects
//	mix     70% get, 20% list, 10% create (the default)
//
// It prints a table with, per operation and overall, the request count, the errors (answers other than 2xx and
// transport failures, with the first few of them), the throughput and the latency percentiles p50, p90, p99 and
// max over every request sent; -json prints one JSON object instead. Latencies are kept in memory, which the
// duration and concurrency caps bound. SIGINT ends the run early and still reports.
//
// It exits 0 when the error rate is at most -max-error-rate, 1 when it is higher or the run failed, and 2 on a
// usage error or a refused target.
//
// Safety: it only ever talks to this machine. The -url host must be localhost or a loopback address
// (127.0.0.0/8, ::1), or a name that resolves only to such addresses; every connection is checked again when it
// is dialled, no proxy is used and redirects are not followed, so neither DNS nor an answer can point it
// elsewhere. The organization and projects it creates stay in the (throwaway) dev database.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Caps and defaults of the flags.
const (
	maxDuration    = 5 * time.Minute
	maxConcurrency = 256
	maxProjects    = 10000
	maxTimeout     = time.Minute
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	rawURL       string
	duration     time.Duration
	concurrency  int
	requests     int64
	projects     int
	scenario     scenario
	maxErrorRate float64
	json         bool
	timeout      time.Duration
}

// usageError is a bad command line: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parseFlags reads args into a config, clamping -duration and -concurrency to their caps with a note on stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var sc string
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.rawURL, "url", "http://localhost:8080", "base URL of the platform (loopback only)")
	fs.DurationVar(&c.duration, "duration", 15*time.Second, "how long to send requests (at most 5m)")
	fs.IntVar(&c.concurrency, "concurrency", 8, "number of concurrent workers (at most 256)")
	fs.Int64Var(&c.requests, "requests", 0, "stop after this many requests in all (0: no cap, only -duration)")
	fs.IntVar(&c.projects, "projects", 200, "projects to create in the setup (the ids `get` picks from)")
	fs.StringVar(&sc, "scenario", string(scenarioMix), "list, get, create or mix (70% get, 20% list, 10% create)")
	fs.Float64Var(&c.maxErrorRate, "max-error-rate", 0.01, "exit 1 when the share of failed requests is above this")
	fs.BoolVar(&c.json, "json", false, "print a JSON object instead of the table")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "timeout of one request (at most 1m)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected arguments %q", fs.Args())
	}
	s, err := parseScenario(sc)
	if err != nil {
		return c, usageError{err.Error()}
	}
	c.scenario = s
	switch {
	case c.duration <= 0:
		return c, usagef("-duration must be positive")
	case c.concurrency < 1:
		return c, usagef("-concurrency must be at least 1")
	case c.requests < 0:
		return c, usagef("-requests must not be negative")
	case c.projects < 0 || c.projects > maxProjects:
		return c, usagef("-projects must be from 0 to %d", maxProjects)
	case c.projects == 0 && c.scenario.needsProjects():
		return c, usagef("-scenario %s reads projects: -projects must be at least 1", c.scenario)
	case !(c.maxErrorRate >= 0 && c.maxErrorRate <= 1):
		return c, usagef("-max-error-rate must be from 0 to 1")
	case c.timeout <= 0 || c.timeout > maxTimeout:
		return c, usagef("-timeout must be positive and at most %s", maxTimeout)
	}
	if c.duration > maxDuration {
		fmt.Fprintf(stderr, "load: -duration %s is above the cap; using %s\n", c.duration, maxDuration)
		c.duration = maxDuration
	}
	if c.concurrency > maxConcurrency {
		fmt.Fprintf(stderr, "load: -concurrency %d is above the cap; using %d\n", c.concurrency, maxConcurrency)
		c.concurrency = maxConcurrency
	}
	return c, nil
}

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "load:", err)
		}
		return exitUsage
	}
	base, err := checkTarget(ctx, cfg.rawURL, lookupHost)
	if err != nil {
		fmt.Fprintln(stderr, "load: refusing to run:", err)
		return exitUsage
	}

	client := newClient(cfg.concurrency, cfg.timeout)
	defer client.CloseIdleConnections()
	a := &api{client: client, base: base.String()}

	fmt.Fprintf(stderr, "load: setting up on %s: a new organization and %d projects\n", a.base, cfg.projects)
	st, err := setup(ctx, a, cfg.projects, cfg.concurrency)
	if err != nil {
		fmt.Fprintln(stderr, "load: setup:", err)
		return exitFailed
	}
	limit := "no request cap"
	if cfg.requests > 0 {
		limit = fmt.Sprintf("at most %d requests", cfg.requests)
	}
	fmt.Fprintf(stderr, "load: organization %s ready (%d projects in %s); running %s for %s with %d workers, %s\n",
		st.slug, len(st.ids), st.elapsed.Round(time.Millisecond), cfg.scenario, cfg.duration, cfg.concurrency, limit)

	res := generate(ctx, a, plan{
		scenario:    cfg.scenario,
		duration:    cfg.duration,
		concurrency: cfg.concurrency,
		requests:    cfg.requests,
		ids:         st.ids,
	})
	rep := buildReport(cfg, a.base, st, res)

	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return exitFailed
		}
	} else {
		printTable(stdout, rep)
	}

	switch {
	case rep.Total.Count == 0:
		fmt.Fprintln(stderr, "load: FAIL: no request completed")
		return exitFailed
	case rep.Total.ErrorRate > cfg.maxErrorRate:
		fmt.Fprintf(stderr, "load: FAIL: error rate %.4f is above -max-error-rate %.4f\n", rep.Total.ErrorRate, cfg.maxErrorRate)
		return exitFailed
	}
	return exitOK
}
