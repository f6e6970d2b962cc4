// Command apicheck fails when the gateway document (opentofu/gateway/openapi.yaml) breaks its clients against
// the document of a base revision (default main) without saying so in its version: every breaking change that
// oasdiff finds (an operation, response field or enum value removed, a request field made required, a type
// narrowed, ...) needs info.version's major number raised. docs/2026-12-03-api-versioning.md has the rules.
//
//	go run ./scripts/apicheck [-base main]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/coditect/hyperscale/shared/contract"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "apicheck:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("apicheck", flag.ContinueOnError)
	base := fs.String("base", "main", "the git revision whose document is the base")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path, err := contract.FindDocument(".")
	if err != nil {
		return err
	}
	revision, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read gateway document: %w", err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("git", "show", *base+":"+contract.DocumentPath)
	cmd.Stderr = &stderr
	original, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("read the base document (git show %s:%s): %w: %s", *base, contract.DocumentPath, err, strings.TrimSpace(stderr.String()))
	}
	report, err := compare(original, revision)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "gateway document %s (%s) against %s (%s): %d breaking change(s)\n",
		contract.DocumentPath, report.RevisionVersion, *base, report.BaseVersion, len(report.Breaking))
	for _, c := range report.Breaking {
		fmt.Fprintln(out, "  "+c)
	}
	return report.Verdict()
}
