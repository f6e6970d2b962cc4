package identity

import (
	"errors"
	"fmt"
	"time"
)

// ThrottleConfig is the throttling configuration a function reads from its environment; Limits turns it into
// a Service's rules. Its defaults are DefaultLimits.
type ThrottleConfig struct {
	// LoginFree is how many failures of one account from one address are admitted without delay.
	LoginFree int `env:"THROTTLE_LOGIN_FREE, default=5"`
	// LoginDelay is the first delay after LoginFree failures; each further failure doubles it (0: no delays).
	LoginDelay time.Duration `env:"THROTTLE_LOGIN_DELAY, default=1s"`
	// LoginMaxDelay caps the delay.
	LoginMaxDelay time.Duration `env:"THROTTLE_LOGIN_MAX_DELAY, default=15m"`
	// LoginMemory is how long without a failure it takes for an account's count from an address to start over.
	LoginMemory time.Duration `env:"THROTTLE_LOGIN_MEMORY, default=24h"`
	// ClientMax failures from one address across accounts within ClientWindow get 429 (0: off).
	ClientMax    int           `env:"THROTTLE_CLIENT_MAX, default=50"`
	ClientWindow time.Duration `env:"THROTTLE_CLIENT_WINDOW, default=15m"`
	// ResetEmailMax password-reset requests for one email within ResetWindow, and ResetClientMax from one
	// address, get 429 (0: off).
	ResetEmailMax  int           `env:"THROTTLE_RESET_EMAIL_MAX, default=5"`
	ResetClientMax int           `env:"THROTTLE_RESET_CLIENT_MAX, default=50"`
	ResetWindow    time.Duration `env:"THROTTLE_RESET_WINDOW, default=1h"`
	// ResetTokenMax wrong reset tokens from one address within ResetTokenWindow get 429 (0: off).
	ResetTokenMax    int           `env:"THROTTLE_RESET_TOKEN_MAX, default=20"`
	ResetTokenWindow time.Duration `env:"THROTTLE_RESET_TOKEN_WINDOW, default=1h"`
	// SignUpMax organizations signed up from one address within SignUpWindow, and the next gets 429 (0: off).
	SignUpMax    int           `env:"THROTTLE_SIGNUP_MAX, default=20"`
	SignUpWindow time.Duration `env:"THROTTLE_SIGNUP_WINDOW, default=1h"`
}

// Limits returns the rules c configures.
func (c ThrottleConfig) Limits() Limits {
	return Limits{
		LoginBackoff:        Backoff{Free: c.LoginFree, Base: c.LoginDelay, Max: c.LoginMaxDelay, Memory: c.LoginMemory},
		LoginPerClient:      Limit{Max: c.ClientMax, Window: c.ClientWindow},
		ResetPerEmail:       Limit{Max: c.ResetEmailMax, Window: c.ResetWindow},
		ResetPerClient:      Limit{Max: c.ResetClientMax, Window: c.ResetWindow},
		ResetTokenPerClient: Limit{Max: c.ResetTokenMax, Window: c.ResetTokenWindow},
		SignUpPerClient:     Limit{Max: c.SignUpMax, Window: c.SignUpWindow},
	}
}

// ThrottleConfigOf returns the configuration whose Limits are l, for callers that build a configuration in
// code (tests) rather than from the environment.
func ThrottleConfigOf(l Limits) ThrottleConfig {
	return ThrottleConfig{
		LoginFree: l.LoginBackoff.Free, LoginDelay: l.LoginBackoff.Base, LoginMaxDelay: l.LoginBackoff.Max, LoginMemory: l.LoginBackoff.Memory,
		ClientMax: l.LoginPerClient.Max, ClientWindow: l.LoginPerClient.Window,
		ResetEmailMax: l.ResetPerEmail.Max, ResetClientMax: l.ResetPerClient.Max, ResetWindow: max(l.ResetPerEmail.Window, l.ResetPerClient.Window),
		ResetTokenMax: l.ResetTokenPerClient.Max, ResetTokenWindow: l.ResetTokenPerClient.Window,
		SignUpMax: l.SignUpPerClient.Max, SignUpWindow: l.SignUpPerClient.Window,
	}
}

// Validate reports every setting out of range: negative counts, windows that are not positive under a limit
// that is on, and delays that do not fit together.
func (c ThrottleConfig) Validate() error {
	var errs []error
	for _, n := range []struct {
		name string
		v    int
	}{{"THROTTLE_LOGIN_FREE", c.LoginFree}, {"THROTTLE_CLIENT_MAX", c.ClientMax}, {"THROTTLE_RESET_EMAIL_MAX", c.ResetEmailMax},
		{"THROTTLE_RESET_CLIENT_MAX", c.ResetClientMax}, {"THROTTLE_RESET_TOKEN_MAX", c.ResetTokenMax}, {"THROTTLE_SIGNUP_MAX", c.SignUpMax}} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("%s is %d, want 0 or more", n.name, n.v))
		}
	}
	for _, w := range []struct {
		name string
		on   bool
		v    time.Duration
	}{{"THROTTLE_CLIENT_WINDOW", c.ClientMax > 0, c.ClientWindow}, {"THROTTLE_RESET_WINDOW", c.ResetEmailMax > 0 || c.ResetClientMax > 0, c.ResetWindow},
		{"THROTTLE_RESET_TOKEN_WINDOW", c.ResetTokenMax > 0, c.ResetTokenWindow}, {"THROTTLE_SIGNUP_WINDOW", c.SignUpMax > 0, c.SignUpWindow}} {
		if w.on && w.v <= 0 {
			errs = append(errs, fmt.Errorf("%s is %s, want a positive duration while its limit is on", w.name, w.v))
		}
	}
	switch {
	case c.LoginDelay < 0:
		errs = append(errs, fmt.Errorf("THROTTLE_LOGIN_DELAY is %s, want 0 (off) or more", c.LoginDelay))
	case c.LoginDelay > 0 && c.LoginMaxDelay < c.LoginDelay:
		errs = append(errs, fmt.Errorf("THROTTLE_LOGIN_MAX_DELAY is %s, want at least THROTTLE_LOGIN_DELAY (%s)", c.LoginMaxDelay, c.LoginDelay))
	case c.LoginDelay > 0 && c.LoginMemory < c.LoginMaxDelay:
		// A count forgotten sooner than the longest delay would start over while the attacker waits.
		errs = append(errs, fmt.Errorf("THROTTLE_LOGIN_MEMORY is %s, want at least THROTTLE_LOGIN_MAX_DELAY (%s)", c.LoginMemory, c.LoginMaxDelay))
	}
	return errors.Join(errs...)
}
