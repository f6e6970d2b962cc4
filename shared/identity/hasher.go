package identity

// Hasher does a Service's password-hash work: every hash the Service makes and every password it checks goes
// through it. Paths that must not be told apart by their timing (a sign-up with a new email and one with an
// existing email) are built to make the same calls, and tests count them here rather than timing them.
type Hasher interface {
	// Hash returns the stored form of password.
	Hash(password string) string
	// Check reports whether password matches hash, a stored form.
	Check(password, hash string) (bool, error)
}

// Argon2 is the Hasher of argon2id with cost parameters Params.
type Argon2 struct{ Params Params }

// Hash returns the PHC-format argon2id hash of password.
func (a Argon2) Hash(password string) string { return HashPassword(password, a.Params) }

// Check reports whether password matches hash.
func (a Argon2) Check(password, hash string) (bool, error) { return CheckPassword(password, hash) }
