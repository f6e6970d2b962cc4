package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/coditect/hyperscale/shared/contract"
)

// Report is what changed between a base document and a revision of it, as a client sees them.
type Report struct {
	BaseVersion, RevisionVersion string
	// Breaking are oasdiff's error-level changes, one line each.
	Breaking []string
}

// compare converts both Swagger 2.0 gateway documents to their published OpenAPI 3 renditions (what clients are
// generated from) and lists the changes that break a client of the base.
func compare(base, revision []byte) (Report, error) {
	b, err := published(base)
	if err != nil {
		return Report{}, fmt.Errorf("base document: %w", err)
	}
	r, err := published(revision)
	if err != nil {
		return Report{}, fmt.Errorf("revision: %w", err)
	}
	d, sources, err := diff.GetPathsDiff(diff.NewConfig(),
		[]*load.SpecInfo{{Spec: b, Source: load.NewSource("base")}},
		[]*load.SpecInfo{{Spec: r, Source: load.NewSource("revision")}})
	if err != nil {
		return Report{}, fmt.Errorf("diff documents: %w", err)
	}
	report := Report{BaseVersion: b.Info.Version, RevisionVersion: r.Info.Version}
	l := checker.NewDefaultLocalizer()
	for _, c := range checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.ERR) {
		report.Breaking = append(report.Breaking, fmt.Sprintf("%s %s: %s [%s]", c.GetOperation(), c.GetPath(), c.GetUncolorizedText(l), c.GetId()))
	}
	return report, nil
}

func published(src []byte) (*openapi3.T, error) {
	doc, err := contract.Convert(src)
	if err != nil {
		return nil, err
	}
	return contract.Published(doc)
}

// Verdict is nil when the revision may land: it breaks nothing, or it raises the major version. A version that
// goes down, or is not MAJOR.MINOR.PATCH, is refused too.
func (r Report) Verdict() error {
	bm, err := major(r.BaseVersion)
	if err != nil {
		return fmt.Errorf("base document: %w", err)
	}
	rm, err := major(r.RevisionVersion)
	if err != nil {
		return fmt.Errorf("revision: %w", err)
	}
	switch {
	case rm < bm:
		return fmt.Errorf("info.version went from %s down to %s", r.BaseVersion, r.RevisionVersion)
	case len(r.Breaking) > 0 && rm == bm:
		return errors.New("the revision breaks clients of the base; keep the old shape beside the new one, or raise " +
			"info.version's major number and serve the new shape under a new URL version (docs/2026-12-03-api-versioning.md)")
	}
	return nil
}

func major(version string) (int, error) {
	parts := strings.Split(version, ".")
	if len(parts) != 3 {
		return 0, fmt.Errorf("info.version %q is not MAJOR.MINOR.PATCH", version)
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return 0, fmt.Errorf("info.version %q is not MAJOR.MINOR.PATCH", version)
		}
	}
	return strconv.Atoi(parts[0])
}
