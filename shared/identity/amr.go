package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/coditect/hyperscale/shared/fault"
	"github.com/google/uuid"
)

// Authentication methods a session records (token.Principal.AMR, directory.refresh_token_families.amr), in the
// manner of RFC 8176.
const (
	// AMRPassword is a session opened with the identity's password (login, sign-up, an accepted invitation).
	AMRPassword = "pwd"
	// AMRMFA is added to a session whose person also passed a second factor.
	AMRMFA = "mfa"
	// amrSSOPrefix starts the method of a session opened through an organization's single sign-on.
	amrSSOPrefix = "sso:"
)

// AMRSSO is the method of a session opened through tenantID's single sign-on connection.
func AMRSSO(tenantID uuid.UUID) string { return amrSSOPrefix + tenantID.String() }

// HasMethod reports whether amr, space-separated method names, includes method.
func HasMethod(amr, method string) bool { return slices.Contains(strings.Fields(amr), method) }

// Refusals of a Policy: the session is fine, but the organization asks for more than it proved.
var (
	// ErrSSORequired refuses a session into an organization that requires its own single sign-on, when the
	// session was not opened through it.
	ErrSSORequired = fault.New(fault.Forbidden, "sso_required", "this organization requires signing in through its single sign-on")
	// ErrOrganizationRequiresMFA refuses a session into an organization that requires a second factor, when the session
	// did not pass one.
	ErrOrganizationRequiresMFA = fault.New(fault.Forbidden, "mfa_session_required", "this organization requires a session that passed a second factor; log in with your password and code")
)

// Policy decides whether a session authenticated as amr may act in the organization tenantID: nil admits it,
// ErrSSORequired or ErrOrganizationRequiresMFA refuse it, anything else is a failure to decide. Login and Switch consult
// it before they open a session.
type Policy interface {
	Admit(ctx context.Context, tenantID uuid.UUID, amr string) error
}

// admit asks s.Policy, when there is one, whether identityID's session authenticated as amr may act in
// tenantID. An organization that requires a second factor admits a member who has none yet: every tenant
// route then sends them to enrol (service.Env.Authenticated), which they could not do if they were refused
// here. It runs outside any transaction of the caller's: the policy reads the tenant store on a connection of
// its own.
func (s *Service) admit(ctx context.Context, identityID, tenantID uuid.UUID, amr string) error {
	if s.Policy == nil {
		return nil
	}
	err := s.Policy.Admit(ctx, tenantID, amr)
	if errors.Is(err, ErrOrganizationRequiresMFA) {
		enrolled, qerr := HasMFA(ctx, s.dir, identityID)
		if qerr != nil {
			return fmt.Errorf("session policy of tenant %s: %w", tenantID, qerr)
		}
		if !enrolled {
			return nil
		}
	}
	if err != nil {
		if errors.Is(err, ErrSSORequired) || errors.Is(err, ErrOrganizationRequiresMFA) {
			return err
		}
		return fmt.Errorf("session policy of tenant %s: %w", tenantID, err)
	}
	return nil
}
