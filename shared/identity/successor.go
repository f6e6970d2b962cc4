package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// successorInfo labels the key derivation, so the key serves this purpose only.
const successorInfo = "hyperscale refresh-token successor v1"

// sealSuccessor encrypts next, the token that replaces spent, under a key derived from spent itself
// (HKDF-SHA256), with AES-256-GCM, the nonce first. The directory stores only SHA-256 of spent, from which the
// key cannot be had, so only a holder of the spent token can read its successor. The spent token's digest is
// the additional data, so a sealed successor moved to another row does not open.
func sealSuccessor(spent, next string) ([]byte, error) {
	aead, err := successorAEAD(spent)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(next)+aead.Overhead())
	_, _ = rand.Read(nonce) // never fails
	return aead.Seal(nonce, nonce, []byte(next), digest(spent)), nil
}

// openSuccessor decrypts what sealSuccessor made for spent.
func openSuccessor(spent string, sealed []byte) (string, error) {
	aead, err := successorAEAD(spent)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("open successor: too short")
	}
	next, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], digest(spent))
	if err != nil {
		return "", fmt.Errorf("open successor: %w", err)
	}
	return string(next), nil
}

func successorAEAD(spent string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(spent), nil, successorInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("successor key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("successor key: %w", err)
	}
	return cipher.NewGCM(block)
}
