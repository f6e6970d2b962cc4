package obs

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCloudTraceContext parses the X-Cloud-Trace-Context header, TRACE_ID/SPAN_ID;o=OPTIONS, that Cloud Run
// and Google front ends set. The span and the options are optional.
//
// The header carries the span id in decimal but Cloud Logging and W3C want 16 hex digits, so spanID is
// returned in hex; traceID is returned in lower case. ok is false for anything malformed, and then the other
// results are empty: a bad header only means the record is not correlated.
func ParseCloudTraceContext(header string) (traceID, spanID string, sampled bool, ok bool) {
	rest, options, hasOptions := strings.Cut(strings.TrimSpace(header), ";")
	traceID, span, hasSpan := strings.Cut(rest, "/")
	traceID = strings.ToLower(traceID)
	if !isLowerHex(traceID, 32) || isZero(traceID) {
		return "", "", false, false
	}
	if hasSpan {
		id, err := strconv.ParseUint(span, 10, 64)
		if err != nil || id == 0 {
			return "", "", false, false
		}
		spanID = fmt.Sprintf("%016x", id)
	}
	if hasOptions {
		value, found := strings.CutPrefix(options, "o=")
		if !found {
			return "", "", false, false
		}
		flags, err := strconv.ParseUint(value, 10, 8)
		if err != nil {
			return "", "", false, false
		}
		sampled = flags&1 == 1
	}
	return traceID, spanID, sampled, true
}

// ParseTraceparent parses a W3C Trace Context traceparent header, VERSION-TRACE_ID-PARENT_ID-FLAGS, as the
// specification asks: lower-case hex only, all-zero ids and version ff rejected, and fields appended by a later
// version ignored. ok is false for anything malformed, and then the other results are empty.
func ParseTraceparent(h string) (traceID, spanID string, sampled bool, ok bool) {
	h = strings.TrimSpace(h)
	// version(2) - trace-id(32) - parent-id(16) - flags(2)
	const size = 55
	if len(h) < size || h[2] != '-' || h[35] != '-' || h[52] != '-' {
		return "", "", false, false
	}
	version, trace, span, flags := h[:2], h[3:35], h[36:52], h[53:55]
	if !isLowerHex(version, 2) || version == "ff" {
		return "", "", false, false
	}
	// Version 00 has exactly four fields; a later version may append more after a dash.
	if len(h) > size && (version == "00" || h[size] != '-') {
		return "", "", false, false
	}
	if !isLowerHex(trace, 32) || isZero(trace) || !isLowerHex(span, 16) || isZero(span) || !isLowerHex(flags, 2) {
		return "", "", false, false
	}
	f, _ := strconv.ParseUint(flags, 16, 8)
	return trace, span, f&1 == 1, true
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isZero(s string) bool {
	return strings.Trim(s, "0") == ""
}
