package token

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLocalKeyFileSurvivesRestart: the first local run creates the key file (0600 in a 0700 directory), the
// next one reuses it, so a token issued before the restart still verifies after it.
func TestLocalKeyFileSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ".dev", "token-signing-key.pem")
	cfg := Config{LocalKeyFile: path, RotationGrace: time.Minute}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))

	first, err := cfg.KeySet(true, log)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file after the first run: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %s, want 0600", info.Mode().Perm())
	}
	if dir, err := os.Stat(filepath.Dir(path)); err != nil || dir.Mode().Perm() != 0o700 {
		t.Errorf("key directory = %v, %v; want 0700", dir.Mode().Perm(), err)
	}
	if !strings.Contains(buf.String(), "created the local signing key") || strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("first run log: %s", buf.String())
	}
	iss := NewIssuer(first, "iss", "aud", time.Hour)
	now := time.Now()
	tok, _, err := iss.Issue(testPrincipal(), testSession(), now)
	if err != nil {
		t.Fatal(err)
	}

	buf.Reset()
	second, err := cfg.KeySet(true, log)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(buf.String(), "reused the local signing key") {
		t.Errorf("second run log: %s", buf.String())
	}
	if _, err := NewVerifier(second, "iss", "aud").Verify(tok, now); err != nil {
		t.Fatalf("a token from before the restart: %v", err)
	}

	// Without the file, each run is a new key, and the old token is refused: the file is what makes the
	// difference.
	ephemeral, err := Config{}.KeySet(true, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(ephemeral, "iss", "aud").Verify(tok, now); err == nil {
		t.Fatal("an ephemeral key verified the old token")
	}
}

func TestLocalKeyFileProblems(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T, text string, mode os.FileMode) string {
		path := filepath.Join(t.TempDir(), "key.pem")
		if err := os.WriteFile(path, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"not a key", func(t *testing.T) string { return write(t, "junk", 0o600) }, "delete it to get a new one"},
		{"a public key only", func(t *testing.T) string { return write(t, pubPEM(t, genKey(t)), 0o600) }, "want EC PRIVATE KEY or PRIVATE KEY"},
		{"readable by others", func(t *testing.T) string { return write(t, privPEM(t, genKey(t)), 0o644) }, "lets other users read it"},
		{"directory cannot be made", func(t *testing.T) string {
			return filepath.Join(write(t, "a file, not a directory", 0o600), "key.pem")
		}, "local signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path(t)
			before, _ := os.ReadFile(path)
			_, err := Config{LocalKeyFile: path}.KeySet(true, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("KeySet = %v, want an error mentioning %q", err, tt.want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the broken key file was overwritten")
			}
		})
	}
	// Outside a local run the file is never read or written.
	path := filepath.Join(t.TempDir(), "key.pem")
	if _, err := (Config{LocalKeyFile: path}).KeySet(false, nil); err == nil {
		t.Error("deployed run without keys: no error")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("deployed run touched the key file: %v", err)
	}
}
