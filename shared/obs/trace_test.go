package obs

import "testing"

func TestParseCloudTraceContext(t *testing.T) {
	t.Parallel()
	const trace = "105445aa7843bc8bf206b12000100000"
	tests := []struct {
		name        string
		in          string
		wantTrace   string
		wantSpan    string
		wantSampled bool
		wantOK      bool
	}{
		{name: "sampled", in: trace + "/1;o=1", wantTrace: trace, wantSpan: "0000000000000001", wantSampled: true, wantOK: true},
		{name: "not sampled", in: trace + "/123456789;o=0", wantTrace: trace, wantSpan: "00000000075bcd15", wantOK: true},
		{name: "max span", in: trace + "/18446744073709551615;o=1", wantTrace: trace, wantSpan: "ffffffffffffffff", wantSampled: true, wantOK: true},
		{name: "no options", in: trace + "/42", wantTrace: trace, wantSpan: "000000000000002a", wantOK: true},
		{name: "trace only", in: trace, wantTrace: trace, wantOK: true},
		{name: "trace and options", in: trace + ";o=1", wantTrace: trace, wantSampled: true, wantOK: true},
		{name: "upper-case trace", in: "105445AA7843BC8BF206B12000100000/1;o=1", wantTrace: trace, wantSpan: "0000000000000001", wantSampled: true, wantOK: true},
		{name: "options bitmask", in: trace + "/1;o=3", wantTrace: trace, wantSpan: "0000000000000001", wantSampled: true, wantOK: true},
		{name: "surrounding space", in: "  " + trace + "/1;o=1 ", wantTrace: trace, wantSpan: "0000000000000001", wantSampled: true, wantOK: true},
		{name: "empty", in: ""},
		{name: "short trace", in: "105445aa/1;o=1"},
		{name: "long trace", in: trace + "00/1;o=1"},
		{name: "non-hex trace", in: "105445aa7843bc8bf206b1200010000g/1;o=1"},
		{name: "zero trace", in: "00000000000000000000000000000000/1;o=1"},
		{name: "empty span", in: trace + "/;o=1"},
		{name: "hex span", in: trace + "/abc;o=1"},
		{name: "negative span", in: trace + "/-1;o=1"},
		{name: "signed span", in: trace + "/+1;o=1"},
		{name: "zero span", in: trace + "/0;o=1"},
		{name: "span overflow", in: trace + "/18446744073709551616;o=1"},
		{name: "bad options key", in: trace + "/1;x=1"},
		{name: "bad options value", in: trace + "/1;o=yes"},
		{name: "empty options", in: trace + "/1;"},
		{name: "traceparent given", in: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			trace, span, sampled, ok := ParseCloudTraceContext(tt.in)
			if trace != tt.wantTrace || span != tt.wantSpan || sampled != tt.wantSampled || ok != tt.wantOK {
				t.Errorf("ParseCloudTraceContext(%q) = %q, %q, %v, %v; want %q, %q, %v, %v",
					tt.in, trace, span, sampled, ok, tt.wantTrace, tt.wantSpan, tt.wantSampled, tt.wantOK)
			}
		})
	}
}

func TestParseTraceparent(t *testing.T) {
	t.Parallel()
	const (
		trace = "4bf92f3577b34da6a3ce929d0e0e4736"
		span  = "00f067aa0ba902b7"
	)
	tests := []struct {
		name        string
		in          string
		wantSampled bool
		wantOK      bool
	}{
		{name: "sampled", in: "00-" + trace + "-" + span + "-01", wantSampled: true, wantOK: true},
		{name: "not sampled", in: "00-" + trace + "-" + span + "-00", wantOK: true},
		{name: "other flags with sampled bit", in: "00-" + trace + "-" + span + "-03", wantSampled: true, wantOK: true},
		{name: "other flags without sampled bit", in: "00-" + trace + "-" + span + "-02", wantOK: true},
		{name: "future version with extra field", in: "cc-" + trace + "-" + span + "-01-what-the-future-will-be-like", wantSampled: true, wantOK: true},
		{name: "future version exact", in: "01-" + trace + "-" + span + "-01", wantSampled: true, wantOK: true},
		{name: "surrounding space", in: " 00-" + trace + "-" + span + "-01 ", wantSampled: true, wantOK: true},
		{name: "empty", in: ""},
		{name: "version 00 with extra field", in: "00-" + trace + "-" + span + "-01-extra"},
		{name: "future version with junk suffix", in: "cc-" + trace + "-" + span + "-01x"},
		{name: "version ff", in: "ff-" + trace + "-" + span + "-01"},
		{name: "non-hex version", in: "0g-" + trace + "-" + span + "-01"},
		{name: "upper-case trace", in: "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + span + "-01"},
		{name: "zero trace", in: "00-00000000000000000000000000000000-" + span + "-01"},
		{name: "zero span", in: "00-" + trace + "-0000000000000000-01"},
		{name: "short trace", in: "00-4bf92f3577b34da6a3ce929d0e0e473-" + span + "-01"},
		{name: "short span", in: "00-" + trace + "-00f067aa0ba902b-01"},
		{name: "non-hex flags", in: "00-" + trace + "-" + span + "-0x"},
		{name: "one-digit flags", in: "00-" + trace + "-" + span + "-1"},
		{name: "wrong separators", in: "00_" + trace + "_" + span + "_01"},
		{name: "cloud trace header given", in: "105445aa7843bc8bf206b12000100000/1;o=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gotTrace, gotSpan, sampled, ok := ParseTraceparent(tt.in)
			wantTrace, wantSpan := "", ""
			if tt.wantOK {
				wantTrace, wantSpan = trace, span
			}
			if gotTrace != wantTrace || gotSpan != wantSpan || sampled != tt.wantSampled || ok != tt.wantOK {
				t.Errorf("ParseTraceparent(%q) = %q, %q, %v, %v; want %q, %q, %v, %v",
					tt.in, gotTrace, gotSpan, sampled, ok, wantTrace, wantSpan, tt.wantSampled, tt.wantOK)
			}
		})
	}
}
