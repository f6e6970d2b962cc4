// Package access holds the platform's one permission table: which organization role may do what. Every
// function asks Can before acting, so a role's reach is read and changed in one place.
package access

import "slices"

// Organization roles, from most to least powerful.
const (
	Owner  = "owner"
	Admin  = "admin"
	Member = "member"
	Viewer = "viewer"
)

// Roles lists every organization role.
var Roles = []string{Owner, Admin, Member, Viewer}

// Action is something a principal may be allowed to do.
type Action string

// Actions.
const (
	ReadProjects  Action = "projects.read"
	WriteProjects Action = "projects.write"
	// ReadMembers lists the organization's members.
	ReadMembers Action = "members.read"
	// ManageMembers adds, invites, re-roles and removes members below owner.
	ManageMembers Action = "members.manage"
	// ManageOwners grants or takes the owner role, and removes owners.
	ManageOwners Action = "owners.manage"
	// ReadTenant reads the organization, its settings and domains.
	ReadTenant Action = "tenant.read"
	// ManageTenant changes the organization, its settings (SSO included) and its domains.
	ManageTenant Action = "tenant.manage"
)

var table = map[Action][]string{
	ReadProjects:  {Owner, Admin, Member, Viewer},
	WriteProjects: {Owner, Admin, Member},
	ReadMembers:   {Owner, Admin, Member, Viewer},
	ManageMembers: {Owner, Admin},
	ManageOwners:  {Owner},
	ReadTenant:    {Owner, Admin, Member, Viewer},
	ManageTenant:  {Owner, Admin},
}

// Can reports whether role may perform action. Unknown roles and actions may do nothing.
func Can(role string, action Action) bool {
	return slices.Contains(table[action], role)
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	return slices.Contains(Roles, role)
}
