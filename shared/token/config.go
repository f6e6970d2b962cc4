package token

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config is the token part of a function's configuration, read with go-envconfig.
//
// SigningKeys and PublicKeys are PEM text (resolved from Secret Manager references at start-up); see
// ParseKeySet for their format and for how to rotate keys. A function that only verifies tokens sets
// PublicKeys alone.
type Config struct {
	SigningKeys string        `env:"TOKEN_SIGNING_KEYS"`
	PublicKeys  string        `env:"TOKEN_PUBLIC_KEYS"`
	Issuer      string        `env:"TOKEN_ISSUER, default=https://hyperscale.local"`
	Audience    string        `env:"TOKEN_AUDIENCE, default=hyperscale-api"`
	AccessTTL   time.Duration `env:"TOKEN_ACCESS_TTL, default=15m"`
	// RefreshTTL is how long an unused refresh token stays valid; each use rotates it.
	RefreshTTL time.Duration `env:"TOKEN_REFRESH_TTL, default=168h"`
	// RefreshReuseInterval is how long after a refresh token is spent a repeat of it still gets the same
	// successor (two tabs refreshing at once) instead of revoking the family; 0 treats every repeat as theft.
	RefreshReuseInterval time.Duration `env:"TOKEN_REFRESH_REUSE_INTERVAL, default=10s"`
	// RotationGrace is how long a retired key (a public key with a Retired-At header) keeps verifying after
	// its retirement. Keep it at least AccessTTL so that no token the key signed before it retired is cut
	// short; 0 refuses its tokens from Retired-At on.
	RotationGrace time.Duration `env:"TOKEN_ROTATION_GRACE, default=15m"`
	// LocalKeyFile is where a local run without keys keeps the signing key it generates, so that tokens
	// survive a restart (make run sets .dev/token-signing-key.pem); empty generates an ephemeral key. It is
	// read only when ENV=local and neither TOKEN_SIGNING_KEYS nor TOKEN_PUBLIC_KEYS is set.
	LocalKeyFile string `env:"TOKEN_LOCAL_KEY_FILE"`
}

// Bounds on AccessTTL: below a minute clients refresh constantly, above a day a stolen token is worth too much.
const (
	MinAccessTTL = time.Minute
	MaxAccessTTL = 24 * time.Hour
)

// MaxRefreshReuseInterval bounds RefreshReuseInterval: the window exists for requests racing each other, and a
// longer one gives a thief of a spent token longer to use it undetected.
const MaxRefreshReuseInterval = time.Minute

// Validate reports every problem with c at once.
//
// Having no keys at all is not a problem here, because a local run generates one; KeySet refuses it elsewhere.
func (c Config) Validate() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("TOKEN_ISSUER is empty"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("TOKEN_AUDIENCE is empty"))
	}
	if c.AccessTTL < MinAccessTTL || c.AccessTTL > MaxAccessTTL {
		errs = append(errs, fmt.Errorf("TOKEN_ACCESS_TTL %s is outside [%s, %s]", c.AccessTTL, MinAccessTTL, MaxAccessTTL))
	}
	if c.RefreshTTL < time.Hour || c.RefreshTTL > 90*24*time.Hour {
		errs = append(errs, fmt.Errorf("TOKEN_REFRESH_TTL %s is outside [1h, 90 days]", c.RefreshTTL))
	}
	if c.RefreshReuseInterval < 0 || c.RefreshReuseInterval > MaxRefreshReuseInterval {
		errs = append(errs, fmt.Errorf("TOKEN_REFRESH_REUSE_INTERVAL %s is outside [0s, %s]", c.RefreshReuseInterval, MaxRefreshReuseInterval))
	}
	if c.RotationGrace < 0 || c.RotationGrace > MaxAccessTTL {
		errs = append(errs, fmt.Errorf("TOKEN_ROTATION_GRACE %s is outside [0s, %s]", c.RotationGrace, MaxAccessTTL))
	}
	keysOK := true
	if c.SigningKeys != "" {
		if _, err := decodePEM(c.SigningKeys, parsePrivateBlock); err != nil {
			errs = append(errs, fmt.Errorf("TOKEN_SIGNING_KEYS: %w", err))
			keysOK = false
		}
	}
	if c.PublicKeys != "" {
		if _, err := decodePEM(c.PublicKeys, parsePublicBlock); err != nil {
			errs = append(errs, fmt.Errorf("TOKEN_PUBLIC_KEYS: %w", err))
			keysOK = false
		}
	}
	// Each text may be fine alone and wrong together: a signing key repeated among the public keys as retired.
	if keysOK && c.SigningKeys != "" && c.PublicKeys != "" {
		if _, err := ParseKeySet(c.SigningKeys, c.PublicKeys); err != nil {
			errs = append(errs, fmt.Errorf("TOKEN_SIGNING_KEYS with TOKEN_PUBLIC_KEYS: %w", err))
		}
	}
	return errors.Join(errs...)
}

// KeySet returns the configured keys, whose retired keys verify for RotationGrace after their retirement.
//
// With no keys configured, a local run (local true) gets the key kept in LocalKeyFile (created there on the
// first run), or without LocalKeyFile an ephemeral key and a warning on log, since its tokens will not survive
// a restart; anywhere else that is an error, because a generated key would make every instance reject the
// others' tokens.
func (c Config) KeySet(local bool, log *slog.Logger) (*KeySet, error) {
	if c.SigningKeys != "" || c.PublicKeys != "" {
		ks, err := ParseKeySet(c.SigningKeys, c.PublicKeys)
		if err != nil {
			return nil, fmt.Errorf("token keys: %w", err)
		}
		return ks.WithRotationGrace(c.RotationGrace), nil
	}
	if !local {
		return nil, errors.New("token keys: neither TOKEN_SIGNING_KEYS nor TOKEN_PUBLIC_KEYS is set")
	}
	if log == nil {
		log = slog.Default()
	}
	if c.LocalKeyFile != "" {
		ks, created, err := LoadOrCreateLocalKey(c.LocalKeyFile)
		if err != nil {
			return nil, fmt.Errorf("token keys: %w", err)
		}
		verb := "reused"
		if created {
			verb = "created"
		}
		log.Info("no token keys configured: "+verb+" the local signing key; tokens survive restarts",
			slog.String("file", c.LocalKeyFile), slog.String("kid", ks.keys[ks.signer].kid))
		return ks.WithRotationGrace(c.RotationGrace), nil
	}
	ks, err := GenerateKeySet()
	if err != nil {
		return nil, fmt.Errorf("token keys: %w", err)
	}
	log.Warn("no token keys configured: generated an ephemeral signing key; tokens will not survive a restart",
		slog.String("kid", ks.keys[0].kid))
	return ks, nil
}
