package sso

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/coditect/hyperscale/shared/fault"
)

// MaxReturnURLLength bounds a return URL, which travels inside the state through two redirects.
const MaxReturnURLLength = 2048

// ErrReturnURL means a return URL is malformed or outside the allow list.
var ErrReturnURL = fault.New(fault.Malformed, "invalid_return_to", "return_to is not an allowed return URL")

// ReturnPolicy decides where a finished sign-in may send the browser. Entries are compared as parsed URLs
// (scheme, host and port exactly, path at a segment boundary), never as string prefixes, so neither
// https://app.example.com.evil.test nor https://app.example.com@evil.test passes for https://app.example.com.
type ReturnPolicy struct {
	entries  []returnEntry
	loopback bool
}

type returnEntry struct {
	scheme, host, path string
}

// NewReturnPolicy builds the policy of the configured entries (see Config.ReturnURLs). local admits any
// loopback http origin when entries is empty.
func NewReturnPolicy(entries []string, local bool) (ReturnPolicy, error) {
	var p ReturnPolicy
	for _, raw := range entries {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		e, err := parseReturnEntry(raw)
		if err != nil {
			return ReturnPolicy{}, err
		}
		p.entries = append(p.entries, e)
	}
	p.loopback = local && len(p.entries) == 0
	return p, nil
}

func parseReturnEntry(raw string) (returnEntry, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return returnEntry{}, fmt.Errorf("%q is not an absolute http(s) URL without credentials, query or fragment", raw)
	}
	return returnEntry{scheme: u.Scheme, host: strings.ToLower(u.Host), path: strings.TrimRight(u.EscapedPath(), "/")}, nil
}

// Check returns the return URL raw normalised, or ErrReturnURL when it is malformed (not absolute http(s),
// credentials, a fragment, too long) or outside the policy.
func (p ReturnPolicy) Check(raw string) (string, error) {
	if len(raw) > MaxReturnURLLength || strings.ContainsAny(raw, "\\\r\n\t") {
		return "", ErrReturnURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", ErrReturnURL
	}
	host := strings.ToLower(u.Host)
	path := u.EscapedPath()
	// A path with dot segments could climb out of an allowed prefix once a browser resolves it.
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." || strings.EqualFold(seg, "%2e") || strings.EqualFold(seg, "%2e%2e") || strings.EqualFold(seg, ".%2e") || strings.EqualFold(seg, "%2e.") {
			return "", ErrReturnURL
		}
	}
	if p.loopback && u.Scheme == "http" && isLoopback(u.Hostname()) {
		return u.String(), nil
	}
	for _, e := range p.entries {
		if e.scheme != u.Scheme || e.host != host {
			continue
		}
		if e.path == "" || path == e.path || strings.HasPrefix(path, e.path+"/") {
			return u.String(), nil
		}
	}
	return "", ErrReturnURL
}
