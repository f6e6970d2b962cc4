package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/secrets/secretstest"
)

// store is a small configuration part standing in for a function's own parts.
type store struct {
	DSN     string        `env:"STORE_DSN"`
	Timeout time.Duration `env:"STORE_TIMEOUT, default=5s"`
}

var errNoDSN = errors.New("STORE_DSN is required")

func (s store) Validate() error {
	var errs []error
	if s.DSN == "" {
		errs = append(errs, errNoDSN)
	}
	if s.Timeout <= 0 {
		errs = append(errs, errors.New("STORE_TIMEOUT must be positive"))
	}
	return errors.Join(errs...)
}

// fnConfig is composed the way a function's configuration is: the shared Base plus parts of its own.
type fnConfig struct {
	config.Base
	Store store
}

// baseOnly embeds exactly one Validator, so Base.Validate is promoted to it.
type baseOnly struct {
	config.Base
	Name string `env:"NAME"`
}

// replicated holds the same part twice, under different prefixes.
type replicated struct {
	Primary *store `env:", prefix=PRIMARY_"`
	Replica *store `env:", prefix=REPLICA_"`
}

// crossChecked has a Validate of its own in addition to its embedded part's.
type crossChecked struct {
	config.Base
	Debug bool `env:"DEBUG"`
}

func (c crossChecked) Validate() error {
	if c.Debug && c.Production() {
		return errors.New("DEBUG must not be set in production")
	}
	return nil
}

// newResolver returns a Resolver reaching a fake Secret Manager holding secrets.
func newResolver(t *testing.T, secretValues map[string]string) (*secrets.Resolver, func() int) {
	t.Helper()
	addr, calls := secretstest.NewServer(t, secretValues)
	r, err := secrets.NewResolver(t.Context(), secretstest.ClientOptions(addr)...)
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, calls
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	var cfg fnConfig
	err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"STORE_DSN": "postgres://localhost/app",
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	want := fnConfig{
		Base:  config.Base{Env: "local", Port: "8080", LogLevel: "info", LogFormat: "json"},
		Store: store{DSN: "postgres://localhost/app", Timeout: 5 * time.Second},
	}
	if cfg != want {
		t.Errorf("Load = %+v, want %+v", cfg, want)
	}
	if !cfg.Local() || cfg.Production() {
		t.Errorf("Local() = %v, Production() = %v; want true, false", cfg.Local(), cfg.Production())
	}
}

func TestLoadReadsEnvironment(t *testing.T) {
	t.Parallel()

	var cfg fnConfig
	err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"ENV":           "production",
		"PORT":          "9090",
		"LOG_LEVEL":     "warn",
		"LOG_FORMAT":    "text",
		"K_SERVICE":     "tenants",
		"STORE_DSN":     "postgres://db/app",
		"STORE_TIMEOUT": "250ms",
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	want := fnConfig{
		Base:  config.Base{Env: "production", Port: "9090", LogLevel: "warn", LogFormat: "text", Service: "tenants"},
		Store: store{DSN: "postgres://db/app", Timeout: 250 * time.Millisecond},
	}
	if cfg != want {
		t.Errorf("Load = %+v, want %+v", cfg, want)
	}
}

func TestLoadValidation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		cfg     any
		env     map[string]string
		want    []string // substrings the error must contain, each exactly once
		wantErr error    // matched with errors.Is when set
	}{
		{
			name: "two broken parts in one error",
			cfg:  &fnConfig{},
			env:  map[string]string{"ENV": "staging", "LOG_LEVEL": "loud", "LOG_FORMAT": "yaml"},
			want: []string{
				`ENV is "staging"`,
				`LOG_LEVEL is "loud"`,
				`LOG_FORMAT is "yaml"`,
				"Store: STORE_DSN is required",
			},
			wantErr: errNoDSN,
		},
		{
			name: "promoted Validate reported once",
			cfg:  &baseOnly{},
			env:  map[string]string{"PORT": "http"},
			want: []string{`PORT is "http"`},
		},
		{
			name: "same part twice is told apart",
			cfg:  &replicated{},
			env:  map[string]string{"PRIMARY_STORE_DSN": "postgres://primary/app"},
			want: []string{"Replica: STORE_DSN is required"},
		},
		{
			name: "own Validate and embedded part both checked",
			cfg:  &crossChecked{},
			env:  map[string]string{"ENV": "production", "DEBUG": "true", "PORT": "0"},
			want: []string{"DEBUG must not be set in production", `PORT is "0"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := config.Load(t.Context(), tt.cfg, config.WithLookuper(envconfig.MapLookuper(tt.env)))
			if err == nil {
				t.Fatal("Load succeeded, want a validation error")
			}
			for _, w := range tt.want {
				if n := strings.Count(err.Error(), w); n != 1 {
					t.Errorf("error mentions %q %d times, want once; error:\n%v", w, n, err)
				}
			}
			if got, want := len(strings.Split(err.Error(), "\n")), len(tt.want); got != want {
				t.Errorf("error has %d problems, want %d; error:\n%v", got, want, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(err, %v) = false; error:\n%v", tt.wantErr, err)
			}
		})
	}
}

func TestLoadResolvesSecrets(t *testing.T) {
	t.Parallel()

	const name = "projects/p1/secrets/store-dsn/versions/2"
	r, calls := newResolver(t, map[string]string{name: "postgres://user:pw@db/app"})

	var cfg fnConfig
	err := config.Load(t.Context(), &cfg, config.WithResolver(r), config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"STORE_DSN": secrets.Scheme + name,
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := "postgres://user:pw@db/app"; cfg.Store.DSN != want {
		t.Errorf("Store.DSN = %q, want %q", cfg.Store.DSN, want)
	}
	if got := calls(); got != 1 {
		t.Errorf("Secret Manager calls = %d, want 1", got)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()

	r, _ := newResolver(t, nil)
	tests := []struct {
		name string
		env  map[string]string
		want string // substring of the error
	}{
		{
			name: "bad duration",
			env:  map[string]string{"STORE_DSN": "postgres://localhost/app", "STORE_TIMEOUT": "soon"},
			want: `Timeout: time: invalid duration "soon"`,
		},
		{
			name: "missing secret",
			env:  map[string]string{"STORE_DSN": secrets.Scheme + "projects/p1/secrets/nope/versions/1"},
			want: "resolve secret secret://projects/p1/secrets/nope/versions/1",
		},
		{
			name: "malformed secret reference",
			env:  map[string]string{"STORE_DSN": "secret://foo"},
			want: "secret://projects/PROJECT/secrets/SECRET/versions/VERSION",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			var cfg fnConfig
			err := config.Load(t.Context(), &cfg, config.WithResolver(r), config.WithLookuper(envconfig.MapLookuper(tt.env)))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "load config: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to start with %q and mention %q", err, "load config: ", tt.want)
			}
		})
	}
}

// TestLoadDefaultResolver checks that Load works without WithResolver when every value is plain; that its resolver
// then creates no Secret Manager client (and so needs no credentials) is covered by the secrets package's tests.
func TestLoadDefaultResolver(t *testing.T) {
	t.Parallel()

	var cfg fnConfig
	err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"STORE_DSN": "postgres://localhost/app",
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestLoadRejectsNonPointer(t *testing.T) {
	t.Parallel()

	err := config.Load(t.Context(), fnConfig{}, config.WithLookuper(envconfig.MapLookuper(nil)))
	if !errors.Is(err, envconfig.ErrNotPtr) {
		t.Errorf("Load(non-pointer) error = %v, want %v", err, envconfig.ErrNotPtr)
	}
}
