package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// percentile is the nearest-rank p-th percentile of sorted (ascending): the smallest value that at least p% of
// the values are at most. It is 0 for no values, the minimum for p ≤ 0 and the maximum for p ≥ 100.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	rank := int(math.Ceil(p * float64(n) / 100))
	return sorted[min(max(rank, 1), n)-1]
}

// report is what the command prints, as a table or (-json) as JSON.
type report struct {
	// Target is the platform's origin.
	Target string `json:"target"`
	// Scenario is the -scenario flag.
	Scenario string `json:"scenario"`
	// Concurrency is the number of workers.
	Concurrency int `json:"concurrency"`
	// DurationLimit and RequestLimit are the run's bounds, in seconds and requests (0: no cap).
	DurationLimit float64 `json:"duration_limit_seconds"`
	RequestLimit  int64   `json:"request_limit"`
	// Elapsed is how long the run took, in seconds; the throughputs are over it.
	Elapsed float64 `json:"elapsed_seconds"`
	// Interrupted is true when a signal ended the run early.
	Interrupted bool `json:"interrupted"`
	// Setup is the organization the run worked in.
	Setup setupReport `json:"setup"`
	// Operations has one entry per operation of the scenario, Total covers them all.
	Operations []opReport `json:"operations"`
	Total      opReport   `json:"total"`
	// ErrorSamples are the first few failed requests.
	ErrorSamples []errorSample `json:"error_samples"`
	// MaxErrorRate is the -max-error-rate flag; Pass tells whether Total.ErrorRate is at most it.
	MaxErrorRate float64 `json:"max_error_rate"`
	Pass         bool    `json:"pass"`
}

// setupReport describes the setup.
type setupReport struct {
	// Slug is the organization's slug.
	Slug string `json:"slug"`
	// Projects is how many projects the setup created.
	Projects int `json:"projects"`
	// Elapsed is how long the setup took, in seconds.
	Elapsed float64 `json:"elapsed_seconds"`
}

// opReport is the figures of one operation, or of all of them.
type opReport struct {
	// Op is get, list, create or total.
	Op string `json:"op"`
	// Count is the number of requests sent (and completed), failed ones included.
	Count int `json:"count"`
	// Errors is how many of them failed, ErrorRate their share, and ErrorKinds their count by HTTP status or
	// "transport".
	Errors     int            `json:"errors"`
	ErrorRate  float64        `json:"error_rate"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// Throughput is Count per second of the run.
	Throughput float64 `json:"throughput_rps"`
	// Latency is over every request of the operation, in milliseconds.
	Latency latencyReport `json:"latency_ms"`
}

// latencyReport is a latency distribution in milliseconds.
type latencyReport struct {
	// P50, P90 and P99 are nearest-rank percentiles; Max is the slowest request.
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// summarize computes one operation's figures; it sorts latencies in place.
func summarize(name string, latencies []time.Duration, errs int, kinds map[string]int, elapsed time.Duration) opReport {
	slices.Sort(latencies)
	r := opReport{Op: name, Count: len(latencies), Errors: errs, ErrorKinds: kinds}
	if r.Count > 0 {
		r.ErrorRate = float64(errs) / float64(r.Count)
	}
	if elapsed > 0 {
		r.Throughput = round(float64(r.Count)/elapsed.Seconds(), 1)
	}
	r.Latency = latencyReport{
		P50: ms(percentile(latencies, 50)),
		P90: ms(percentile(latencies, 90)),
		P99: ms(percentile(latencies, 99)),
		Max: ms(percentile(latencies, 100)),
	}
	return r
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// buildReport turns a run's measurements into the report.
func buildReport(cfg config, target string, st setupResult, res result) report {
	rep := report{
		Target:        target,
		Scenario:      string(cfg.scenario),
		Concurrency:   cfg.concurrency,
		DurationLimit: cfg.duration.Seconds(),
		RequestLimit:  cfg.requests,
		Elapsed:       round(res.elapsed.Seconds(), 3),
		Interrupted:   res.interrupted,
		Setup:         setupReport{Slug: st.slug, Projects: len(st.ids), Elapsed: round(st.elapsed.Seconds(), 3)},
		ErrorSamples:  res.samples,
		MaxErrorRate:  cfg.maxErrorRate,
	}
	if rep.ErrorSamples == nil {
		rep.ErrorSamples = []errorSample{}
	}
	var all []time.Duration
	allErrs := 0
	var allKinds map[string]int
	for _, o := range cfg.scenario.ops() {
		all = append(all, res.latencies[o]...)
		allErrs += res.errors[o]
		for k, n := range res.kinds[o] {
			if allKinds == nil {
				allKinds = map[string]int{}
			}
			allKinds[k] += n
		}
		rep.Operations = append(rep.Operations, summarize(o.String(), res.latencies[o], res.errors[o], res.kinds[o], res.elapsed))
	}
	rep.Total = summarize("total", all, allErrs, allKinds, res.elapsed)
	rep.Pass = rep.Total.Count > 0 && rep.Total.ErrorRate <= cfg.maxErrorRate
	return rep
}

// printTable writes rep as a compact table.
func printTable(w io.Writer, rep report) {
	bounds := fmt.Sprintf("%gs", rep.DurationLimit)
	if rep.RequestLimit > 0 {
		bounds += fmt.Sprintf(" or %d requests", rep.RequestLimit)
	}
	fmt.Fprintf(w, "target %s  scenario %s  concurrency %d  bound %s  elapsed %.2fs",
		rep.Target, rep.Scenario, rep.Concurrency, bounds, rep.Elapsed)
	if rep.Interrupted {
		fmt.Fprint(w, "  (interrupted)")
	}
	fmt.Fprintf(w, "\nsetup  organization %s, %d projects in %.2fs\n\n", rep.Setup.Slug, rep.Setup.Projects, rep.Setup.Elapsed)
	fmt.Fprintf(w, "%-7s %9s %7s %7s %9s %9s %9s %9s %9s\n", "op", "requests", "errors", "err%", "req/s", "p50", "p90", "p99", "max")
	row := func(r opReport) {
		fmt.Fprintf(w, "%-7s %9d %7d %6.2f%% %9.1f %9s %9s %9s %9s\n", r.Op, r.Count, r.Errors, 100*r.ErrorRate, r.Throughput,
			fmtMS(r.Latency.P50), fmtMS(r.Latency.P90), fmtMS(r.Latency.P99), fmtMS(r.Latency.Max))
	}
	for _, r := range rep.Operations {
		row(r)
	}
	row(rep.Total)
	if rep.Total.Errors > 0 {
		fmt.Fprintf(w, "\nerrors by kind: %s\n", formatKinds(rep.Total.ErrorKinds))
		for _, s := range rep.ErrorSamples {
			fmt.Fprintf(w, "  %-6s %3d  %s\n", s.Op, s.Status, strings.Join(strings.Fields(s.Detail), " "))
		}
	}
}

func fmtMS(v float64) string { return fmt.Sprintf("%.2fms", v) }

func formatKinds(kinds map[string]int) string {
	keys := slices.Sorted(maps.Keys(kinds))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, kinds[k])
	}
	return strings.Join(parts, ", ")
}
