package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Environments a service may run in, as set in ENV.
const (
	EnvLocal      = "local"
	EnvTest       = "test"
	EnvProduction = "production"
)

var (
	envs      = []string{EnvLocal, EnvTest, EnvProduction}
	logLevels = []string{"debug", "info", "warn", "error"}
	// logFormats are obs.FormatJSON and obs.FormatText, spelt out so config does not import obs.
	logFormats = []string{"json", "text"}
)

// Base is the configuration part every function embeds.
type Base struct {
	// Env is the environment the service runs in: local, test or production.
	Env string `env:"ENV, default=local"`
	// Port is the TCP port the HTTP server listens on; Cloud Run sets PORT.
	Port string `env:"PORT, default=8080"`
	// LogLevel is the minimum level logged: debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL, default=info"`
	// LogFormat is json (Cloud Logging's structured lines, the production default) or text (key=value lines
	// for a developer's terminal; make run sets it).
	LogFormat string `env:"LOG_FORMAT, default=json"`
	// Service is the Cloud Run service name, set by Cloud Run in K_SERVICE and empty elsewhere.
	Service string `env:"K_SERVICE"`
}

// Local reports whether the service runs on a developer's machine.
func (b Base) Local() bool { return b.Env == EnvLocal }

// Production reports whether the service runs in production.
func (b Base) Production() bool { return b.Env == EnvProduction }

// Validate reports every problem with ENV, PORT, LOG_LEVEL and LOG_FORMAT.
func (b Base) Validate() error {
	var errs []error
	if !slices.Contains(envs, b.Env) {
		errs = append(errs, fmt.Errorf("ENV is %q, want one of %v", b.Env, envs))
	}
	if p, err := strconv.Atoi(b.Port); err != nil || p < 1 || p > 65535 {
		errs = append(errs, fmt.Errorf("PORT is %q, want a TCP port number from 1 to 65535", b.Port))
	}
	if !slices.Contains(logLevels, b.LogLevel) {
		errs = append(errs, fmt.Errorf("LOG_LEVEL is %q, want one of %v", b.LogLevel, logLevels))
	}
	if !slices.Contains(logFormats, b.LogFormat) {
		errs = append(errs, fmt.Errorf("LOG_FORMAT is %q, want one of %v", b.LogFormat, logFormats))
	}
	return errors.Join(errs...)
}
