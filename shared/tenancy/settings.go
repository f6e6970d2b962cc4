package tenancy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MaskedSecret stands in answers for an SSO client secret held as a plain value (accepted only locally). Sent
// back in a replacement, it means "keep the stored secret", so a read-modify-write round trip keeps it.
const MaskedSecret = "****"

// Bounds on settings.
const (
	// MaxSettingKeys bounds the keys of each of features, limits and preferences.
	MaxSettingKeys = 100
	// MaxPreferencesBytes bounds the preferences object, JSON-encoded.
	MaxPreferencesBytes = 16 << 10
	// MaxLimit is the largest limit: the largest integer a JavaScript client reads exactly.
	MaxLimit = 1<<53 - 1
)

// Top-level settings, in the order changes are listed.
var settingKeys = []string{"features", "limits", "preferences", "sso", "require_mfa"}

// settingKey is the shape of every key of features, limits and preferences: it names a setting in code, so it
// is a lower-case identifier.
var settingKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Settings is an organization's configuration: feature flags, limits, preferences and its SSO connection.
type Settings struct {
	Features    map[string]bool            `json:"features"`
	Limits      map[string]int64           `json:"limits"`
	Preferences map[string]json.RawMessage `json:"preferences"`
	// SSO is the organization's OIDC connection, or nil. In answers its client secret is a secret reference or
	// MaskedSecret, never a plain secret.
	SSO *sso.Connection `json:"sso"`
	// RequireMFA requires every member to have a second factor: a member without one reaches only the routes
	// that enrol one (docs/2026-12-03-totp.md).
	RequireMFA bool `json:"require_mfa"`
}

// defaultSettings are the settings of an organization that never stored any.
func defaultSettings() Settings {
	return Settings{Features: map[string]bool{}, Limits: map[string]int64{}, Preferences: map[string]json.RawMessage{}}
}

// Redacted returns s as clients may see it: a plain client secret becomes MaskedSecret; a secret reference is
// shown, since it names where the secret lives rather than the secret.
func (s Settings) Redacted() Settings {
	if s.SSO != nil {
		c := *s.SSO
		c.AllowedDomains = slices.Clone(c.AllowedDomains)
		if !secrets.IsReference(c.ClientSecret) {
			c.ClientSecret = MaskedSecret
		}
		s.SSO = &c
	}
	return s
}

// SettingsInput is the body of PUT /v1/tenants/me/settings, kept raw so that every shape error is reported
// with its path ("limits.max_projects", "sso.issuer") rather than as the decoder's first type error. A member
// that is absent or null replaces the setting with its default (empty, or no SSO connection).
type SettingsInput struct {
	Features    json.RawMessage `json:"features"`
	Limits      json.RawMessage `json:"limits"`
	Preferences json.RawMessage `json:"preferences"`
	SSO         json.RawMessage `json:"sso"`
	RequireMFA  json.RawMessage `json:"require_mfa"`
}

// parse checks the input's shapes and returns the settings it holds. The SSO connection is decoded but not
// validated: a masked secret is resolved against the stored one first.
func (in SettingsInput) parse() (Settings, valid.Errors) {
	out := defaultSettings()
	var errs valid.Errors
	parseObject(&errs, "features", in.Features, func(path string, v json.RawMessage) {
		var b bool
		if err := json.Unmarshal(v, &b); err != nil || isNull(v) {
			errs.Add(path, "must be true or false")
			return
		}
		out.Features[lastKey(path)] = b
	})
	parseObject(&errs, "limits", in.Limits, func(path string, v json.RawMessage) {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < 0 || n > MaxLimit {
			errs.Add(path, fmt.Sprintf("must be an integer from 0 to %d", int64(MaxLimit)))
			return
		}
		out.Limits[lastKey(path)] = n
	})
	parseObject(&errs, "preferences", in.Preferences, func(path string, v json.RawMessage) {
		if len(v) > 0 && v[0] == '[' {
			errs.Add(path, "must be a string, number, boolean, null or object")
			return
		}
		if msg := checkJSONValue(v); msg != "" {
			errs.Add(path, msg)
			return
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, v) // v is valid JSON: it was decoded from the body
		out.Preferences[lastKey(path)] = compact.Bytes()
	})
	if enc, _ := json.Marshal(out.Preferences); len(enc) > MaxPreferencesBytes {
		errs.Add("preferences", fmt.Sprintf("must be at most %d bytes encoded as JSON", MaxPreferencesBytes))
	}
	if len(in.RequireMFA) > 0 && !isNull(in.RequireMFA) {
		if err := json.Unmarshal(in.RequireMFA, &out.RequireMFA); err != nil {
			errs.Add("require_mfa", "must be true or false")
		}
	}
	if len(in.SSO) > 0 && !isNull(in.SSO) {
		c, err := decodeConnection(in.SSO)
		if err != nil {
			errs = append(errs, err...)
		} else {
			out.SSO = c
		}
	}
	return out, errs
}

// parseObject decodes raw, the member name of the input, as a JSON object of at most MaxSettingKeys keys of
// the setting-key shape, and passes each member's path and raw value to each in key order.
func parseObject(errs *valid.Errors, name string, raw json.RawMessage, each func(path string, v json.RawMessage)) {
	if len(raw) == 0 || isNull(raw) {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		errs.Add(name, "must be an object")
		return
	}
	if len(m) > MaxSettingKeys {
		errs.Add(name, fmt.Sprintf("must have at most %d keys", MaxSettingKeys))
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !settingKey.MatchString(k) {
			errs.Add(name+"."+shortKey(k), "keys must be 1 to 64 lower-case letters, digits or underscores, starting with a letter")
			continue
		}
		each(name+"."+k, m[k])
	}
}

// decodeConnection decodes an SSO connection, refusing unknown fields and naming wrongly typed ones.
func decodeConnection(raw json.RawMessage) (*sso.Connection, valid.Errors) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c sso.Connection
	err := dec.Decode(&c)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return &c, nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		msg := "must be " + jsonType(typeErr.Type.Kind().String())
		if typeErr.Field == "allowed_domains" { // an element's type error names its array
			msg = "must be an array of strings"
		}
		return nil, valid.Errors{{Field: "sso." + typeErr.Field, Message: msg}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields; its message is stable and documented.
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return nil, valid.Errors{{Field: "sso." + shortKey(field), Message: "unknown field"}}
	}
	return nil, valid.Errors{{Field: "sso", Message: "must be null or an object"}}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	return kind
}

// checkJSONValue returns why the JSON value v cannot be stored, or "": PostgreSQL's jsonb refuses NUL in
// strings, and a number beyond a double's range would not survive a JavaScript client.
func checkJSONValue(v json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return "must be valid JSON"
		}
		switch t := tok.(type) {
		case string:
			if strings.ContainsRune(t, 0) {
				return "must not contain NUL characters"
			}
		case json.Number:
			if f, err := strconv.ParseFloat(string(t), 64); err != nil || math.IsInf(f, 0) {
				return "must hold numbers within the range of a double"
			}
		}
	}
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func lastKey(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

// shortKey bounds a client-sent key echoed in a field name.
func shortKey(k string) string {
	const max = 64
	if utf8.RuneCountInString(k) <= max {
		return k
	}
	return string([]rune(k)[:max]) + "…"
}

// SettingsStore reads and replaces organizations' settings in their tenant store.
type SettingsStore struct {
	tenants *db.Tenants
	local   bool
	// providers, when set, reads the discovery document of an SSO connection being saved.
	providers *http.Client
}

// WithProviderCheck makes Replace read the discovery document of an enabled SSO connection whose provider
// settings (issuer, client authentication, scopes) change, with client (sso.NewHTTPClient), and refuse the
// connection when the document names another issuer, cannot be read, or describes a provider the platform
// cannot sign in with (sso.Metadata.Check). It returns s.
func (s *SettingsStore) WithProviderCheck(client *http.Client) *SettingsStore {
	s.providers = client
	return s
}

// NewSettingsStore returns the store over the tenant handle. local admits what only a developer's machine may
// hold: a plain SSO client secret and an http issuer on loopback (sso.Connection.Validate).
func NewSettingsStore(tenants *db.Tenants, local bool) *SettingsStore {
	return &SettingsStore{tenants: tenants, local: local}
}

// Get returns tenantID's settings, redacted; an organization without stored settings has the defaults.
func (s *SettingsStore) Get(ctx context.Context, tenantID uuid.UUID) (Settings, error) {
	var st Settings
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		st, err = loadSettings(ctx, tx, tenantID, false)
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("load settings of tenant %s: %w", tenantID, err)
	}
	return st.Redacted(), nil
}

// Replace stores in as tenantID's whole settings on behalf of actorID and returns them, redacted. An SSO client
// secret sent as MaskedSecret keeps the stored secret, as long as the issuer and client id stay the same: a
// connection pointed elsewhere needs its own secret, and must not carry the old one to another provider. A
// replacement that changes nothing records nothing.
func (s *SettingsStore) Replace(ctx context.Context, tenantID, actorID uuid.UUID, in SettingsInput) (Settings, error) {
	return s.replace(ctx, tenantID, actorID, nil, in)
}

// ReplaceBy is Replace on behalf of actor, the principal of the request (its TenantID must be tenantID), which
// may not lock itself out: turning sso.required on is refused (422 sso.required) unless actor's session was
// opened through this organization's connection, the proof that the connection lets its admins in.
func (s *SettingsStore) ReplaceBy(ctx context.Context, actor token.Principal, in SettingsInput) (Settings, error) {
	return s.replace(ctx, actor.TenantID, actor.IdentityID, &actor.AMR, in)
}

func (s *SettingsStore) replace(ctx context.Context, tenantID, actorID uuid.UUID, actorAMR *string, in SettingsInput) (Settings, error) {
	next, errs := in.parse()
	masked := next.SSO != nil && next.SSO.ClientSecret == MaskedSecret
	if next.SSO != nil {
		// A masked secret stands for a stored one, which is checked once resolved; a stand-in lets every other
		// field be checked before the transaction.
		if masked {
			next.SSO.ClientSecret = secrets.Scheme + "projects/-/secrets/" + SSOSecretName(tenantID) + "/versions/-"
		}
		errs = append(errs, s.checkConnection(next.SSO, tenantID)...)
		if masked {
			next.SSO.ClientSecret = MaskedSecret
		}
	}
	if err := errs.Err(); err != nil {
		return Settings{}, err
	}
	if err := s.checkProvider(ctx, tenantID, next.SSO); err != nil {
		return Settings{}, err
	}
	if err := s.checkRequiredBy(ctx, tenantID, actorAMR, next.SSO); err != nil {
		return Settings{}, err
	}
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		old, err := loadSettings(ctx, tx, tenantID, true)
		if err != nil {
			return err
		}
		if masked {
			if old.SSO == nil || old.SSO.Issuer != next.SSO.Issuer || old.SSO.ClientID != next.SSO.ClientID {
				return valid.Errors{{Field: "sso.client_secret", Message: "is masked; send the secret itself when there is none stored or the issuer or client id change"}}
			}
			next.SSO.ClientSecret = old.SSO.ClientSecret
			if errs := s.checkConnection(next.SSO, tenantID); len(errs) > 0 {
				return errs
			}
		}
		changes, err := settingsChanges(old, next)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			next = old
			return nil
		}
		enc := map[string][]byte{}
		for k, v := range map[string]any{"features": next.Features, "limits": next.Limits, "preferences": next.Preferences} {
			if enc[k], err = json.Marshal(v); err != nil {
				return fmt.Errorf("encode %s: %w", k, err)
			}
		}
		var conn []byte // nil is SQL NULL: no connection
		if next.SSO != nil {
			if conn, err = json.Marshal(next.SSO); err != nil {
				return fmt.Errorf("encode sso: %w", err)
			}
		}
		// An upsert, not INSERT ... SELECT, which Citus refuses under row-level security (DESIGN.md rule 8). The
		// answer is what jsonb stored, so it reads exactly as a later GET does.
		next, err = scanSettings(tx.QueryRow(ctx, `INSERT INTO tenant.settings (tenant_id, features, limits, preferences, sso, require_mfa)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id) DO UPDATE SET features = EXCLUDED.features, limits = EXCLUDED.limits,
				preferences = EXCLUDED.preferences, sso = EXCLUDED.sso, require_mfa = EXCLUDED.require_mfa, updated_at = now()
			RETURNING `+settingsColumns, tenantID, enc["features"], enc["limits"], enc["preferences"], conn, next.RequireMFA))
		if err != nil {
			return err
		}
		changed := make([]string, 0, len(changes))
		for _, k := range settingKeys {
			if _, ok := changes[k]; ok {
				changed = append(changed, k)
			}
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "tenant_settings", EntityID: tenantID, Action: activity.Updated, Changes: changes,
		}, activity.Event{Type: pubsub.TypeTenantSettingsUpdated, Payload: pubsub.TenantSettingsUpdated{
			TenantID: tenantID, Changed: changed, ActorID: actorID,
		}})
	})
	if err != nil {
		return Settings{}, fmt.Errorf("replace settings of tenant %s: %w", tenantID, err)
	}
	return next.Redacted(), nil
}

// SSOSecretName is the Secret Manager secret id, or the prefix of the ids (followed by "-"), that an
// organization's SSO client secret reference must name: secret://projects/P/secrets/sso-<tenant id>/versions/V.
// The platform resolves the reference with its own credentials and sends the value to the connection's
// issuer, so a reference to any other secret (a signing key, say) would let an organization's admin have the
// platform hand that secret to a server of their choosing.
func SSOSecretName(tenantID uuid.UUID) string { return "sso-" + tenantID.String() }

// OwnsSecretReference reports whether ref, a secret reference, names one of tenantID's own SSO secrets.
func OwnsSecretReference(tenantID uuid.UUID, ref string) bool {
	parts := strings.Split(strings.TrimPrefix(ref, secrets.Scheme), "/")
	if !strings.HasPrefix(ref, secrets.Scheme) || len(parts) != 6 || parts[0] != "projects" || parts[1] == "" ||
		parts[2] != "secrets" || parts[4] != "versions" || parts[5] == "" {
		return false
	}
	own := SSOSecretName(tenantID)
	return parts[3] == own || strings.HasPrefix(parts[3], own+"-")
}

// checkConnection validates c for tenantID: the connection's own rules, NUL (which PostgreSQL's jsonb refuses;
// the other fields' own checks already refuse it) and, for a secret reference, that it names the
// organization's own secret.
func (s *SettingsStore) checkConnection(c *sso.Connection, tenantID uuid.UUID) valid.Errors {
	errs := validationErrors(c.Validate(s.local))
	errs.Check(!strings.ContainsRune(c.ClientID, 0), "sso.client_id", "must not contain NUL characters")
	errs.Check(!strings.ContainsRune(c.ClientSecret, 0), "sso.client_secret", "must not contain NUL characters")
	errs.Check(!secrets.IsReference(c.ClientSecret) || OwnsSecretReference(tenantID, c.ClientSecret), "sso.client_secret",
		"must name this organization's own secret: "+secrets.Scheme+"projects/P/secrets/"+SSOSecretName(tenantID)+"[-suffix]/versions/V")
	return errs
}

func validationErrors(err error) valid.Errors {
	var errs valid.Errors
	if err != nil && !errors.As(err, &errs) {
		return valid.Errors{{Field: "sso", Message: err.Error()}}
	}
	return errs
}

// loadSettings reads tenantID's stored settings (the defaults when there are none), locking the row for a
// replacement when forUpdate is set.
func loadSettings(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, forUpdate bool) (Settings, error) {
	q := `SELECT ` + settingsColumns + ` FROM tenant.settings WHERE tenant_id = $1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	st, err := scanSettings(tx.QueryRow(ctx, q, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return defaultSettings(), nil
	}
	return st, err
}

const settingsColumns = `features, limits, preferences, sso, require_mfa`

func scanSettings(row pgx.Row) (Settings, error) {
	var features, limits, preferences, conn []byte
	var requireMFA bool
	if err := row.Scan(&features, &limits, &preferences, &conn, &requireMFA); err != nil {
		return Settings{}, err
	}
	st := defaultSettings()
	st.RequireMFA = requireMFA
	for _, f := range []struct {
		raw []byte
		dst any
	}{{features, &st.Features}, {limits, &st.Limits}, {preferences, &st.Preferences}} {
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return Settings{}, fmt.Errorf("decode stored settings: %w", err)
		}
	}
	if conn != nil {
		if err := json.Unmarshal(conn, &st.SSO); err != nil {
			return Settings{}, fmt.Errorf("decode stored sso connection: %w", err)
		}
	}
	return st, nil
}

// settingsChanges compares old and next by their JSON meaning (jsonb reorders keys and rewrites numbers, so
// the stored bytes are no guide) and returns each changed top-level setting's old and new value, with SSO
// client secrets redacted.
func settingsChanges(old, next Settings) (map[string]activity.Change, error) {
	o, n := old.Redacted(), next.Redacted()
	values := map[string][2]any{
		"features":    {o.Features, n.Features},
		"limits":      {o.Limits, n.Limits},
		"preferences": {o.Preferences, n.Preferences},
		"require_mfa": {o.RequireMFA, n.RequireMFA},
	}
	changes := map[string]activity.Change{}
	for k, v := range values {
		same, err := sameJSON(v[0], v[1])
		if err != nil {
			return nil, err
		}
		if !same {
			changes[k] = activity.Change{Old: v[0], New: v[1]}
		}
	}
	// The secret is compared unredacted: replacing it is a change, though the trail shows it masked.
	same, err := sameJSON(old.SSO, next.SSO)
	if err != nil {
		return nil, err
	}
	if !same {
		changes["sso"] = activity.Change{Old: o.SSO, New: n.SSO}
	}
	return changes, nil
}

func sameJSON(a, b any) (bool, error) {
	var canon [2]any
	for i, v := range []any{a, b} {
		enc, err := json.Marshal(v)
		if err != nil {
			return false, fmt.Errorf("compare settings: %w", err)
		}
		if err := json.Unmarshal(enc, &canon[i]); err != nil {
			return false, fmt.Errorf("compare settings: %w", err)
		}
	}
	x, _ := json.Marshal(canon[0])
	y, _ := json.Marshal(canon[1])
	return bytes.Equal(x, y), nil
}

// checkProvider refuses next, an SSO connection being saved, when its provider cannot serve it (see
// WithProviderCheck): the failing field and why, as a validation error. It runs before the settings'
// transaction, which must not wait on a remote server. A disabled connection, or one whose provider settings
// are the stored connection's, is not checked again: a flag changed while the provider is down still saves.
func (s *SettingsStore) checkProvider(ctx context.Context, tenantID uuid.UUID, next *sso.Connection) error {
	if s.providers == nil || next == nil || !next.Enabled {
		return nil
	}
	old, err := sso.LoadConnection(ctx, s.tenants, tenantID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if err == nil && old.Enabled && old.Issuer == next.Issuer && old.TokenAuthMethod == next.TokenAuthMethod &&
		slices.Equal(old.EffectiveScopes(), next.EffectiveScopes()) {
		return nil
	}
	md, err := sso.Discover(ctx, s.providers, next.Issuer)
	if err == nil {
		err = md.Check(next)
	}
	var de *sso.DiscoveryError
	if errors.As(err, &de) {
		return valid.Errors{{Field: de.Field, Message: de.Detail}}
	}
	return err
}

// checkRequiredBy refuses next, a connection being saved by a session authenticated as *actorAMR, when it turns
// sso.required on and that session was not opened through tenantID's connection. Nil actorAMR checks nothing.
func (s *SettingsStore) checkRequiredBy(ctx context.Context, tenantID uuid.UUID, actorAMR *string, next *sso.Connection) error {
	if actorAMR == nil || next == nil || !next.Required || identity.HasMethod(*actorAMR, identity.AMRSSO(tenantID)) {
		return nil
	}
	old, err := sso.LoadConnection(ctx, s.tenants, tenantID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if err == nil && old.Enabled && old.Required {
		return nil
	}
	return valid.Errors{{Field: "sso.required", Message: "turn it on from a session signed in through this organization's single sign-on " +
		"(GET /v1/auth/sso/{tenant}/start), which shows that it lets you in"}}
}
