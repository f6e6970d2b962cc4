package access

import "testing"

// TestCan walks every (role, action) pair, so a change to the table shows up here as a deliberate edit.
func TestCan(t *testing.T) {
	t.Parallel()
	want := map[Action]map[string]bool{
		ReadProjects:  {Owner: true, Admin: true, Member: true, Viewer: true},
		WriteProjects: {Owner: true, Admin: true, Member: true, Viewer: false},
		ReadMembers:   {Owner: true, Admin: true, Member: true, Viewer: true},
		ManageMembers: {Owner: true, Admin: true, Member: false, Viewer: false},
		ManageOwners:  {Owner: true, Admin: false, Member: false, Viewer: false},
		ReadTenant:    {Owner: true, Admin: true, Member: true, Viewer: true},
		ManageTenant:  {Owner: true, Admin: true, Member: false, Viewer: false},
	}
	for action, roles := range want {
		for _, role := range Roles {
			if got := Can(role, action); got != roles[role] {
				t.Errorf("Can(%s, %s) = %v, want %v", role, action, got, roles[role])
			}
		}
		if Can("", action) || Can("superuser", action) {
			t.Errorf("an unknown role may %s", action)
		}
	}
	if len(want) != len(table) {
		t.Errorf("the table has %d actions, the test %d: add the new action's row here", len(table), len(want))
	}
	if Can(Owner, "projects.destroy") {
		t.Error("an unknown action is allowed")
	}
}
