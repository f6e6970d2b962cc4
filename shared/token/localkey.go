package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreateLocalKey returns the signing key kept in the file at path, generating it and writing it there
// (the directory 0700, the file 0600, created exclusively) when the file does not exist yet; created reports
// which happened. It is for local runs only, so that tokens survive a restart of the dev server: a key in a
// file on a developer's disk is no production secret.
//
// A file that exists but holds no usable key is an error rather than something to overwrite silently, and so
// is one that other users may read: the key signs tokens for every local account.
func LoadOrCreateLocalKey(path string) (ks *KeySet, created bool, err error) {
	ks, err = readLocalKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return ks, false, err
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("local signing key: generate: %w", err)
	}
	text, err := EncodePrivatePEM(priv)
	if err != nil {
		return nil, false, fmt.Errorf("local signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("local signing key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process started at the same moment and wrote it first: use its key.
		ks, err = readLocalKey(path)
		return ks, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("local signing key: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, false, fmt.Errorf("local signing key: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return nil, false, fmt.Errorf("local signing key: write %s: %w", path, err)
	}
	ks, err = ParseKeySet(text, "")
	if err != nil {
		return nil, false, fmt.Errorf("local signing key %s: %w", path, err)
	}
	return ks, true, nil
}

// readLocalKey parses the key file at path; a missing file is an error wrapping fs.ErrNotExist.
func readLocalKey(path string) (*KeySet, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("local signing key %s: mode %s lets other users read it; chmod 600 it or delete it to get a new one",
			path, info.Mode().Perm())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("local signing key: %w", err)
	}
	ks, err := ParseKeySet(string(text), "")
	if err != nil {
		return nil, fmt.Errorf("local signing key %s (delete it to get a new one): %w", path, err)
	}
	return ks, nil
}
