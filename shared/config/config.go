// Package config loads a function's configuration from the environment.
//
// Each function declares one struct composed of shared parts (Base and others) and its own fields, tagged for
// github.com/sethvargo/go-envconfig. Load fills it, replaces secret:// references with their Secret Manager
// payloads, and then validates every part, reporting all problems at once so that an operator fixing a deployment
// does not have to redeploy once per mistake.
package config

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/sethvargo/go-envconfig"

	"github.com/coditect/hyperscale/shared/secrets"
)

// Validator is implemented by configuration parts. Validate returns every problem with the part's own fields,
// joined with errors.Join, or nil. It should not validate the parts it embeds or contains: Load calls their
// Validate methods itself.
type Validator interface {
	Validate() error
}

// Option customises Load.
type Option func(*options)

type options struct {
	lookuper envconfig.Lookuper
	resolver *secrets.Resolver
}

// WithLookuper makes Load read variables from l instead of the process environment; tests use
// envconfig.MapLookuper.
func WithLookuper(l envconfig.Lookuper) Option {
	return func(o *options) { o.lookuper = l }
}

// WithResolver makes Load resolve secret references with r, which the caller keeps ownership of and must close.
func WithResolver(r *secrets.Resolver) Option {
	return func(o *options) { o.resolver = r }
}

// Load fills cfg, a pointer to a struct, from the environment and validates it.
//
// Values of the form secret://projects/P/secrets/S/versions/V are replaced by the payload of that secret version
// before they are decoded. Without WithResolver, Load uses a resolver of its own and closes it before returning;
// that resolver only creates a Secret Manager client when a reference appears, so configurations with only plain
// values need no Google credentials.
//
// Errors from reading or decoding a variable (including resolving a secret) are returned as they occur. Once cfg is
// filled, Load calls Validate on cfg and on every struct it embeds or contains (see Validate) and returns all their
// problems in one error.
func Load(ctx context.Context, cfg any, opts ...Option) (err error) {
	o := options{lookuper: envconfig.OsLookuper()}
	for _, opt := range opts {
		opt(&o)
	}

	if o.resolver == nil {
		r, err := secrets.NewResolver(ctx)
		if err != nil {
			return fmt.Errorf("load config: %w", err)
		}
		defer func() {
			if cerr := r.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("load config: %w", cerr))
			}
		}()
		o.resolver = r
	}

	resolve := envconfig.MutatorFunc(func(ctx context.Context, _, _, _, value string) (string, bool, error) {
		v, err := o.resolver.Resolve(ctx, value)
		return v, false, err
	})
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   cfg,
		Lookuper: o.lookuper,
		Mutators: []envconfig.Mutator{resolve},
	}); err != nil {
		return fmt.Errorf("load config: %w", err)
	}

	if err := Validate(cfg); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	return nil
}

// Validate calls Validate on cfg and, depth first, on every exported struct field of it that implements Validator,
// embedded or named, following non-nil pointers. It returns nil if there are no problems and otherwise one error
// joining them all.
//
// Problems from a named (non-embedded) field are prefixed with the field's path, such as "Primary: ...", because
// the same part may appear more than once. Identical problems are reported once: a struct that embeds exactly one
// Validator has that Validate promoted to it, so it would otherwise be reported both for the struct and for the
// embedded part.
func Validate(cfg any) error {
	v := reflect.ValueOf(cfg)
	if !v.IsValid() {
		return nil
	}
	var problems []error
	seen := make(map[string]bool)
	collect(v, "", func(err error) {
		if !seen[err.Error()] {
			seen[err.Error()] = true
			problems = append(problems, err)
		}
	})
	return errors.Join(problems...)
}

// collect reports the problems of v and of the structs within it, flattened so that duplicates can be recognised
// one problem at a time. envconfig rejects recursive struct types, so the walk needs no cycle detection.
func collect(v reflect.Value, path string, report func(error)) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}

	// The pointer's method set includes both value and pointer receivers, so prefer it when it is available.
	target := v
	if v.CanAddr() {
		target = v.Addr()
	}
	if target.CanInterface() {
		if val, ok := target.Interface().(Validator); ok {
			for _, p := range flatten(val.Validate()) {
				if path != "" {
					p = fmt.Errorf("%s: %w", path, p)
				}
				report(p)
			}
		}
	}

	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		child := path
		if !f.Anonymous {
			child = f.Name
			if path != "" {
				child = path + "." + f.Name
			}
		}
		collect(v.Field(i), child, report)
	}
}

// flatten splits joined errors into their individual problems.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
