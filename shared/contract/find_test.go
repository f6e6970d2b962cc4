package contract_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/contract"
)

func TestFindDocument(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	deep := filepath.Join(root, "functions", "projects", "cmd")
	docDir := filepath.Join(root, "opentofu", "gateway")
	for _, dir := range []string{deep, docDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(root, "go.work"), filepath.Join(docDir, "openapi.yaml")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	got, err := contract.FindDocument(deep)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(docDir, "openapi.yaml"); got != want {
		t.Errorf("FindDocument = %q, want %q", got, want)
	}

	if _, err := contract.FindDocument(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no go.work") {
		t.Errorf("FindDocument outside a workspace: err = %v, want one saying no go.work was found", err)
	}
}
