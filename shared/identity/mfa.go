package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Second-factor parameters. Six digits, 30-second steps and SHA-1 are what every authenticator app reads from
// an otpauth URI without asking; one step of skew either way admits a phone clock that is a little off.
const (
	// MFAIssuer names the platform in authenticator apps.
	MFAIssuer = "Hyperscale"
	// MFAChallengeTTL is how long the mfa_token of a login that owes a code stays valid.
	MFAChallengeTTL = 5 * time.Minute
	// RecoveryCodeCount is how many single-use recovery codes a confirmed enrolment gets.
	RecoveryCodeCount = 10
	// MFAKeyBytes is the length of the key TOTP secrets are sealed with (AES-256).
	MFAKeyBytes = 32

	totpPeriod      = 30
	totpSkew        = 1
	recoveryCodeLen = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: totpSkew, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Second-factor errors a caller maps to answers.
var (
	// ErrMFARequired is matched by every *MFARequiredError.
	ErrMFARequired = fault.New(fault.Unauthenticated, "mfa_required", "send a code from your authenticator, or a recovery code, with mfa_token to POST /v1/auth/login/mfa")
	// ErrInvalidMFAToken refuses an mfa_token that is unknown, expired, used, or whose organization or
	// membership went away, alike.
	ErrInvalidMFAToken = fault.New(fault.Unauthenticated, "invalid_mfa_token", "the mfa_token is unknown, expired or already used; log in again")
	// ErrInvalidMFACode refuses a wrong code, a code already accepted (replayed within its window) and a used
	// recovery code, alike.
	ErrInvalidMFACode = fault.New(fault.Unauthenticated, "invalid_mfa_code", "the code is wrong, was already used, or the recovery code was spent")
	// ErrMFAEnrolled refuses starting or confirming an enrolment when one is active.
	ErrMFAEnrolled = fault.New(fault.Conflict, "mfa_already_enrolled", "an authenticator is already enrolled; remove it first")
	// ErrMFANotEnrolled refuses confirming or removing an enrolment that does not exist.
	ErrMFANotEnrolled = fault.New(fault.NotFound, "mfa_not_enrolled", "no authenticator is enrolled; start with POST /v1/auth/mfa/totp")
	// ErrMFAUnavailable means this deployment has no key to seal TOTP secrets with (Service.MFA is nil).
	ErrMFAUnavailable = fault.New(fault.Unavailable, "mfa_unavailable", "second factors are not configured on this deployment")
	// ErrMFAEnrollmentRequired refuses a tenant route to a member without a second factor in an organization
	// that requires one.
	ErrMFAEnrollmentRequired = fault.New(fault.Forbidden, "mfa_enrollment_required", "this organization requires a second factor: enrol one with POST /v1/auth/mfa/totp")
)

// MFARequiredError answers a login whose password was right for an identity with a second factor: the client
// completes it with LoginMFA, Token and a code, before ExpiresAt.
type MFARequiredError struct {
	Token     string
	ExpiresAt time.Time
}

// Error says what is owed.
func (e *MFARequiredError) Error() string { return "second factor required" }

// Is makes errors.Is(err, ErrMFARequired) hold.
func (e *MFARequiredError) Is(target error) bool { return target == ErrMFARequired }

// SecretBox seals TOTP secrets at rest with AES-256-GCM. The identity id is the additional data, so a sealed
// secret copied onto another identity's row does not open.
type SecretBox struct {
	aead cipher.AEAD
}

// NewSecretBox returns a box over key, which must have MFAKeyBytes bytes.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != MFAKeyBytes {
		return nil, fmt.Errorf("mfa key has %d bytes, want %d", len(key), MFAKeyBytes)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("mfa key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("mfa key: %w", err)
	}
	return &SecretBox{aead: aead}, nil
}

// ParseMFAKey decodes a key from standard or URL-safe base64, padded or not (`openssl rand -base64 32`).
func ParseMFAKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != MFAKeyBytes {
				return nil, fmt.Errorf("the key has %d bytes, want %d", len(key), MFAKeyBytes)
			}
			return key, nil
		}
	}
	return nil, errors.New("the key is not base64")
}

func (b *SecretBox) seal(plain string, identityID uuid.UUID) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails
	return b.aead.Seal(nonce, nonce, []byte(plain), identityID[:])
}

func (b *SecretBox) open(sealed []byte, identityID uuid.UUID) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("open totp secret: too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], identityID[:])
	if err != nil {
		return "", fmt.Errorf("open totp secret: %w", err)
	}
	return string(plain), nil
}

// TOTPEnrolment is a started enrolment: the shared secret (base32, for typing in) and the otpauth URI (for a
// QR code). It is shown once; the server keeps the secret sealed.
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	URI    string `json:"otpauth_uri"`
}

// MFAStatus is what an identity sees of its own second factor.
type MFAStatus struct {
	// Enabled: a confirmed authenticator guards every password login.
	Enabled bool `json:"enabled"`
	// Pending: an enrolment was started and waits for its first code.
	Pending                bool       `json:"pending"`
	ConfirmedAt            *time.Time `json:"confirmed_at"`
	RecoveryCodesRemaining int        `json:"recovery_codes_remaining"`
}

// HasMFA reports whether identityID has a confirmed second factor.
func HasMFA(ctx context.Context, dir *db.Directory, identityID uuid.UUID) (bool, error) {
	var ok bool
	err := dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM directory.mfa_totp WHERE identity_id = $1 AND confirmed_at IS NOT NULL)`,
			identityID).Scan(&ok)
	})
	if err != nil {
		return false, fmt.Errorf("second factor of %s: %w", identityID, err)
	}
	return ok, nil
}

// MFAStatus returns identityID's second-factor status.
func (s *Service) MFAStatus(ctx context.Context, identityID uuid.UUID) (MFAStatus, error) {
	var st MFAStatus
	err := s.dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT confirmed_at, (SELECT count(*) FROM directory.mfa_recovery_codes
				WHERE identity_id = $1 AND used_at IS NULL)::int
			FROM directory.mfa_totp WHERE identity_id = $1`, identityID).Scan(&st.ConfirmedAt, &st.RecoveryCodesRemaining)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		st.Enabled, st.Pending = st.ConfirmedAt != nil, st.ConfirmedAt == nil
		if st.Pending {
			st.RecoveryCodesRemaining = 0
		}
		return err
	})
	if err != nil {
		return MFAStatus{}, fmt.Errorf("second factor of %s: %w", identityID, err)
	}
	return st, nil
}

// StartTOTP begins enrolling an authenticator for identityID: a fresh secret replaces any pending one, and
// nothing changes at login until ConfirmTOTP proves the authenticator holds it. An identity with a confirmed
// authenticator is ErrMFAEnrolled (remove it first).
func (s *Service) StartTOTP(ctx context.Context, identityID uuid.UUID, now time.Time) (TOTPEnrolment, error) {
	if s.MFA == nil {
		return TOTPEnrolment{}, ErrMFAUnavailable
	}
	var out TOTPEnrolment
	err := s.dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		var email string
		var enrolled bool
		err := tx.QueryRow(ctx, `SELECT i.email, EXISTS (SELECT 1 FROM directory.mfa_totp
				WHERE identity_id = i.id AND confirmed_at IS NOT NULL)
			FROM directory.identities i WHERE i.id = $1`, identityID).Scan(&email, &enrolled)
		if err != nil {
			return err
		}
		if enrolled {
			return ErrMFAEnrolled
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: MFAIssuer, AccountName: email, Period: totpPeriod,
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return fmt.Errorf("generate totp secret: %w", err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO directory.mfa_totp (identity_id, secret, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (identity_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = EXCLUDED.created_at, last_step = 0
			WHERE directory.mfa_totp.confirmed_at IS NULL`, identityID, s.MFA.seal(key.Secret(), identityID), now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrMFAEnrolled // confirmed concurrently
		}
		out = TOTPEnrolment{Secret: key.Secret(), URI: key.URL()}
		return nil
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp enrolment: %w", err)
	}
	return out, nil
}

// ConfirmTOTP activates identityID's pending authenticator with a current code from it, asked from client
// (its IP address, or ""), and returns RecoveryCodeCount fresh recovery codes, shown this once (only their
// SHA-256 is stored; older ones are dropped). Codes are throttled like passwords (*ThrottledError); a wrong
// one is ErrInvalidMFACode; no pending enrolment is ErrMFANotEnrolled, a confirmed one ErrMFAEnrolled.
func (s *Service) ConfirmTOTP(ctx context.Context, client string, identityID uuid.UUID, code string, now time.Time) ([]string, error) {
	code = normalizeCode(code)
	if code == "" {
		return nil, valid.Errors{{Field: "code", Message: "is required"}}
	}
	if s.MFA == nil {
		return nil, ErrMFAUnavailable
	}
	a := s.Limits.mfa(identityID, client)
	var (
		codes   []string
		outcome error
	)
	err := s.dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		if err := throttled(ctx, tx, a, now); err != nil {
			return err
		}
		var (
			sealed    []byte
			lastStep  int64
			confirmed bool
		)
		err := tx.QueryRow(ctx, `SELECT secret, last_step, confirmed_at IS NOT NULL FROM directory.mfa_totp
			WHERE identity_id = $1 FOR UPDATE`, identityID).Scan(&sealed, &lastStep, &confirmed)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrMFANotEnrolled
		}
		if err != nil {
			return err
		}
		if confirmed {
			return ErrMFAEnrolled
		}
		secret, err := s.MFA.open(sealed, identityID)
		if err != nil {
			return err
		}
		step, ok := matchTOTP(secret, code, lastStep, now)
		if !ok {
			outcome = ErrInvalidMFACode
			return s.record(ctx, tx, a, now)
		}
		if _, err := tx.Exec(ctx, `UPDATE directory.mfa_totp SET confirmed_at = $2, last_step = $3 WHERE identity_id = $1`,
			identityID, now, step); err != nil {
			return err
		}
		if codes, err = replaceRecoveryCodes(ctx, tx, identityID, now); err != nil {
			return err
		}
		return forgetBackoff(ctx, tx, a.account, a.client)
	})
	if err != nil {
		return nil, fmt.Errorf("confirm totp enrolment: %w", err)
	}
	if outcome != nil {
		return nil, outcome
	}
	return codes, nil
}

// RemoveTOTP removes identityID's authenticator (confirmed or pending) and its recovery codes, on proof of a
// current code, a recovery code or the password: exactly one of code and password. Wrong proofs count like
// wrong codes (*ThrottledError past the limit): ErrInvalidMFACode for a code, ErrInvalidCredentials for a
// password. No enrolment is ErrMFANotEnrolled.
func (s *Service) RemoveTOTP(ctx context.Context, client string, identityID uuid.UUID, code, password string, now time.Time) error {
	code = normalizeCode(code)
	if (code == "") == (password == "") {
		const msg = "send exactly one of code (from the authenticator, or a recovery code) or password"
		return valid.Errors{{Field: "code", Message: msg}, {Field: "password", Message: msg}}
	}
	a := s.Limits.mfa(identityID, client)
	var stored *string
	err := s.dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		if err := throttled(ctx, tx, a, now); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT i.password_hash, EXISTS (SELECT 1 FROM directory.mfa_totp WHERE identity_id = i.id)
			FROM directory.identities i WHERE i.id = $1`, identityID).Scan(&stored, &exists); err != nil {
			return err
		}
		if !exists {
			return ErrMFANotEnrolled
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove totp: %w", err)
	}
	if password != "" {
		// Checked outside any transaction, so no lock is held across argon2.
		check := s.dummyHash
		if stored != nil {
			check = *stored
		}
		ok, err := CheckPassword(password, check)
		if err != nil {
			return fmt.Errorf("remove totp: %w", err)
		}
		if !ok || stored == nil {
			if err := s.fail(ctx, &a, now); err != nil {
				return fmt.Errorf("remove totp: %w", err)
			}
			return ErrInvalidCredentials
		}
	}
	var outcome error
	err = s.dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		if code != "" {
			if ok, err := s.spendSecondFactor(ctx, tx, a, identityID, code, now, &outcome); !ok {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM directory.mfa_recovery_codes WHERE identity_id = $1`, identityID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM directory.mfa_totp WHERE identity_id = $1`, identityID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrMFANotEnrolled
		}
		return forgetBackoff(ctx, tx, a.account, a.client)
	})
	if err != nil {
		return fmt.Errorf("remove totp: %w", err)
	}
	return outcome
}

// challenge records that identityID gave the right password to log in to tenantID and owes a second factor,
// and returns the *MFARequiredError carrying the challenge's token. The password was right, so the email's
// failed logins are forgotten as after any successful password check.
func (s *Service) challenge(ctx context.Context, identityID, tenantID uuid.UUID, a *attempt, now time.Time) error {
	tok, sum := newSecret()
	expires := now.Add(MFAChallengeTTL).UTC().Truncate(time.Second)
	err := s.dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		if a != nil {
			if err := forgetBackoff(ctx, tx, a.account, a.client); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO directory.mfa_challenges (token_hash, identity_id, tenant_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, sum, identityID, tenantID, now, expires)
		return err
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return &MFARequiredError{Token: tok, ExpiresAt: expires}
}

// LoginMFA completes a login that answered *MFARequiredError: mfaToken is its Token, code a current code of
// the identity's authenticator or one of its recovery codes, asked from client (its IP address, or ""). It
// opens the session the password login would have opened, with the identity's current role; the token works
// once. Codes are throttled like passwords, per identity and per client (*ThrottledError); a wrong, replayed
// or used code is ErrInvalidMFACode and leaves the token usable until it expires; an unknown, expired or used
// token, or one whose membership or organization went away, is ErrInvalidMFAToken.
func (s *Service) LoginMFA(ctx context.Context, client, mfaToken, code string, now time.Time) (Session, error) {
	code = normalizeCode(code)
	var errs valid.Errors
	errs.Check(strings.TrimSpace(mfaToken) != "", "mfa_token", "is required")
	errs.Check(code != "", "code", "is required")
	if err := errs.Err(); err != nil {
		return Session{}, err
	}
	mfaToken = strings.TrimSpace(mfaToken)
	if len(mfaToken) != secretLen {
		return Session{}, ErrInvalidMFAToken
	}
	if s.MFA == nil {
		return Session{}, ErrMFAUnavailable
	}
	var (
		sess    Session
		outcome error
	)
	err := s.dir.Platform(ctx, db.EntryMFA, func(tx pgx.Tx) error {
		var (
			identityID, tenantID uuid.UUID
			status               string
			role                 *string
		)
		err := tx.QueryRow(ctx, `SELECT c.identity_id, c.tenant_id, t.slug, t.status, m.role
			FROM directory.mfa_challenges c
			JOIN directory.tenants t ON t.id = c.tenant_id
			LEFT JOIN directory.memberships m ON m.tenant_id = c.tenant_id AND m.identity_id = c.identity_id
			WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2
			FOR UPDATE OF c`, digest(mfaToken), now).Scan(&identityID, &tenantID, &sess.TenantSlug, &status, &role)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && (role == nil || status != "active")) {
			outcome = ErrInvalidMFAToken
			return nil
		}
		if err != nil {
			return err
		}
		a := s.Limits.mfa(identityID, client)
		if err := throttled(ctx, tx, a, now); err != nil {
			return err
		}
		if ok, err := s.spendSecondFactor(ctx, tx, a, identityID, code, now, &outcome); !ok {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE directory.mfa_challenges SET used_at = $2 WHERE token_hash = $1`, digest(mfaToken), now); err != nil {
			return err
		}
		if err := forgetBackoff(ctx, tx, a.account, a.client); err != nil {
			return err
		}
		amr := AMRPassword + " " + AMRMFA
		sess.Principal = token.Principal{IdentityID: identityID, TenantID: tenantID, Role: *role, AMR: amr}
		return s.StartSession(ctx, tx, &sess, now)
	})
	if err != nil {
		return Session{}, fmt.Errorf("login with second factor: %w", err)
	}
	if outcome != nil {
		return Session{}, outcome
	}
	return sess, nil
}

// spendSecondFactor checks code with checkSecondFactor. A wrong code sets *outcome to ErrInvalidMFACode and
// records the failed attempt a, which the transaction must commit: ok is false, and err only says whether
// recording failed. The caller returns err when ok is false.
func (s *Service) spendSecondFactor(ctx context.Context, tx pgx.Tx, a attempt, identityID uuid.UUID, code string, now time.Time, outcome *error) (ok bool, err error) {
	ok, err = s.checkSecondFactor(ctx, tx, identityID, code, now)
	if err != nil || ok {
		return ok && err == nil, err
	}
	*outcome = ErrInvalidMFACode
	return false, s.record(ctx, tx, a, now)
}

// checkSecondFactor reports whether code is a current, never accepted code of identityID's confirmed
// authenticator, or one of its unused recovery codes, inside tx; an accepted one is spent (its time step
// remembered, or the recovery code marked used). The authenticator's row is locked, so of two concurrent uses
// of one code exactly one is accepted.
func (s *Service) checkSecondFactor(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, code string, now time.Time) (bool, error) {
	var (
		sealed   []byte
		lastStep int64
	)
	err := tx.QueryRow(ctx, `SELECT secret, last_step FROM directory.mfa_totp WHERE identity_id = $1 AND confirmed_at IS NOT NULL
		FOR UPDATE`, identityID).Scan(&sealed, &lastStep)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(code) == recoveryCodeLen {
		tag, err := tx.Exec(ctx, `UPDATE directory.mfa_recovery_codes SET used_at = $3
			WHERE identity_id = $1 AND code_hash = $2 AND used_at IS NULL`, identityID, recoveryHash(code), now)
		if err != nil {
			return false, err
		}
		return tag.RowsAffected() == 1, nil
	}
	secret, err := s.MFA.open(sealed, identityID)
	if err != nil {
		return false, err
	}
	step, ok := matchTOTP(secret, code, lastStep, now)
	if !ok {
		return false, nil
	}
	_, err = tx.Exec(ctx, `UPDATE directory.mfa_totp SET last_step = $2 WHERE identity_id = $1`, identityID, step)
	return err == nil, err
}

// matchTOTP returns the time step at which code is secret's code, within the skew around now, and whether
// there is one. Steps at or before lastStep never match: a code accepted once is refused for the rest of its
// window, and so is any older one.
func matchTOTP(secret, code string, lastStep int64, now time.Time) (int64, bool) {
	if len(code) != int(otp.DigitsSix) {
		return 0, false
	}
	for d := -totpSkew; d <= totpSkew; d++ {
		t := now.Add(time.Duration(d) * totpPeriod * time.Second)
		step := t.Unix() / totpPeriod
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// normalizeCode drops the spaces and dashes people type into codes, and lower-cases recovery codes.
func normalizeCode(code string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(code))
}

var recoveryAlphabet = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// recoveryHash is the stored form of a normalized recovery code. The codes carry 50 random bits, so a plain
// SHA-256 is enough: there is no dictionary to try.
func recoveryHash(code string) []byte {
	sum := sha256.Sum256([]byte("recovery:" + code))
	return sum[:]
}

// replaceRecoveryCodes drops identityID's recovery codes and stores RecoveryCodeCount fresh ones, returned
// formatted as people read them ("abcde-fghij").
func replaceRecoveryCodes(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, now time.Time) ([]string, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM directory.mfa_recovery_codes WHERE identity_id = $1`, identityID); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		raw := make([]byte, 7)
		_, _ = rand.Read(raw) // never fails
		c := recoveryAlphabet.EncodeToString(raw)[:recoveryCodeLen]
		codes[i], hashes[i] = c[:5]+"-"+c[5:], recoveryHash(c)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO directory.mfa_recovery_codes (identity_id, code_hash, created_at)
		SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h`, identityID, hashes, now); err != nil {
		return nil, err
	}
	return codes, nil
}

// MFAConfig is the second-factor part of the auth function's configuration.
type MFAConfig struct {
	// EncryptionKey seals TOTP secrets at rest: base64 of MFAKeyBytes random bytes (`openssl rand -base64 32`),
	// usually a Secret Manager reference. Every instance must share it, and losing it disables every enrolled
	// authenticator, so it is required except with ENV=local, where an empty key means a random one per process.
	EncryptionKey string `env:"MFA_ENCRYPTION_KEY"`
}

// Validate reports a key that is set but unusable.
func (c MFAConfig) Validate() error {
	if c.EncryptionKey == "" {
		return nil
	}
	if _, err := ParseMFAKey(c.EncryptionKey); err != nil {
		return fmt.Errorf("MFA_ENCRYPTION_KEY: %w", err)
	}
	return nil
}
