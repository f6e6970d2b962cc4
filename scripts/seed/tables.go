package main

import (
	"iter"
	"sort"
)

// The tables the seed loads, with every column it can generate. Columns are matched by name against the
// migrated tables at run time (table.resolve).

var tenantsTable = table[tenantPlan]{schema: "directory", name: "tenants", cols: []column[tenantPlan]{
	{"id", func(t *tenantPlan) any { return uuidVal(t.id) }},
	{"slug", func(t *tenantPlan) any { return t.slug }},
	{"name", func(t *tenantPlan) any { return t.name }},
	{"status", func(*tenantPlan) any { return "active" }},
	{"plan", func(t *tenantPlan) any { return t.plan }},
	{"created_at", func(t *tenantPlan) any { return tsVal(t.created) }},
	{"updated_at", func(t *tenantPlan) any { return tsVal(t.created) }},
}}

// member is one person of one tenant, the row of both the identities and the memberships tables.
type member struct {
	tenant *tenantPlan
	*person
}

func identitiesTable(c *config) table[member] {
	return table[member]{schema: "directory", name: "identities", cols: []column[member]{
		{"id", func(m *member) any { return uuidVal(m.id) }},
		{"email", func(m *member) any { return m.email }},
		{"name", func(m *member) any { return m.name }},
		{"password_hash", func(*member) any { return c.passwordHash }},
		{"created_at", func(m *member) any { return tsVal(m.created) }},
		{"updated_at", func(m *member) any { return tsVal(m.created) }},
	}}
}

var membershipsTable = table[member]{schema: "directory", name: "memberships", cols: []column[member]{
	{"tenant_id", func(m *member) any { return uuidVal(m.tenant.id) }},
	{"identity_id", func(m *member) any { return uuidVal(m.id) }},
	{"role", func(m *member) any { return m.role }},
	{"created_at", func(m *member) any { return tsVal(m.created) }},
}}

// projectRow is one project of one tenant.
type projectRow struct {
	tenant *tenantPlan
	*project
}

var projectsTable = table[projectRow]{schema: "tenant", name: "projects", cols: []column[projectRow]{
	{"tenant_id", func(p *projectRow) any { return uuidVal(p.tenant.id) }},
	{"id", func(p *projectRow) any { return uuidVal(p.id) }},
	{"name", func(p *projectRow) any { return p.name }},
	{"description", func(p *projectRow) any { return p.desc }},
	{"created_by", func(p *projectRow) any { return uuidVal(p.by) }},
	{"created_at", func(p *projectRow) any { return tsVal(p.created) }},
	{"updated_at", func(p *projectRow) any { return tsVal(p.updated) }},
	{"deleted_at", func(p *projectRow) any { return optTS(p.deleted) }},
	{"status", func(p *projectRow) any { return p.status }},
	{"archived_at", func(p *projectRow) any { return optTS(p.archived) }},
}}

var tasksTable = table[task]{schema: "tenant", name: "tasks", cols: []column[task]{
	{"tenant_id", func(t *task) any { return uuidVal(t.tenant) }},
	{"id", func(t *task) any { return uuidVal(t.id) }},
	{"project_id", func(t *task) any { return uuidVal(t.project) }},
	{"title", func(t *task) any { return t.title }},
	{"description", func(t *task) any { return t.desc }},
	{"status", func(t *task) any { return t.status }},
	{"priority", func(t *task) any { return t.priority }},
	{"assignee_id", func(t *task) any { return optUUID(t.assignee) }},
	{"due_date", func(t *task) any { return optDate(t.due) }},
	{"labels", func(t *task) any { return t.labels }},
	{"position", func(t *task) any { return t.position }},
	{"version", func(t *task) any { return t.version }},
	{"created_by", func(t *task) any { return uuidVal(t.by) }},
	{"created_at", func(t *task) any { return tsVal(t.created) }},
	{"updated_at", func(t *task) any { return tsVal(t.updated) }},
	{"completed_at", func(t *task) any { return optTS(t.completed) }},
	{"deleted_at", func(t *task) any { return optTS(t.deleted) }},
}}

var commentsTable = table[comment]{schema: "tenant", name: "comments", cols: []column[comment]{
	{"tenant_id", func(c *comment) any { return uuidVal(c.tenant) }},
	{"id", func(c *comment) any { return uuidVal(c.id) }},
	{"task_id", func(c *comment) any { return uuidVal(c.task) }},
	{"author_id", func(c *comment) any { return uuidVal(c.author) }},
	{"body", func(c *comment) any { return c.body }},
	{"created_at", func(c *comment) any { return tsVal(c.created) }},
	{"updated_at", func(c *comment) any { return tsVal(c.updated) }},
}}

// projectMember is one member of one project's team.
type projectMember struct {
	tenant  *tenantPlan
	project *project
	k       int
}

var projectMembersTable = table[projectMember]{schema: "tenant", name: "project_members", cols: []column[projectMember]{
	{"tenant_id", func(m *projectMember) any { return uuidVal(m.tenant.id) }},
	{"project_id", func(m *projectMember) any { return uuidVal(m.project.id) }},
	{"identity_id", func(m *projectMember) any { return uuidVal(m.tenant.people[m.project.team[m.k]].id) }},
	{"role", func(m *projectMember) any { return m.project.teamRole[m.k] }},
	{"created_at", func(m *projectMember) any { return tsVal(m.project.created) }},
}}

func (c *config) projectMemberRows(_, lo, hi int) iter.Seq[*projectMember] {
	return func(yield func(*projectMember) bool) {
		for i := lo; i < hi; i++ {
			t := c.plan(i)
			for p := range t.projects {
				for k := range t.projects[p].team {
					if !yield(&projectMember{tenant: t, project: &t.projects[p], k: k}) {
						return
					}
				}
			}
		}
	}
}

func (c *config) tenantRows(_, lo, hi int) iter.Seq[*tenantPlan] {
	return func(yield func(*tenantPlan) bool) {
		for i := lo; i < hi; i++ {
			if !yield(c.plan(i)) {
				return
			}
		}
	}
}

func (c *config) peopleRows(_, lo, hi int) iter.Seq[*member] {
	return func(yield func(*member) bool) {
		for i := lo; i < hi; i++ {
			t := c.plan(i)
			for k := range t.people {
				if !yield(&member{tenant: t, person: &t.people[k]}) {
					return
				}
			}
		}
	}
}

func (c *config) membershipRows(w, lo, hi int) iter.Seq[*member] { return c.peopleRows(w, lo, hi) }

func (c *config) projectRows(_, lo, hi int) iter.Seq[*projectRow] {
	return func(yield func(*projectRow) bool) {
		for i := lo; i < hi; i++ {
			t := c.plan(i)
			for k := range t.projects {
				if !yield(&projectRow{tenant: t, project: &t.projects[k]}) {
					return
				}
			}
		}
	}
}

// taskRows generates every tenant's tasks and, for the large tenants, picks the tasks that the comments phase
// will comment on, into targets[worker] in tenant order.
func (c *config) taskRows(targets [][]commentTarget) generator[task] {
	perTask := 0.0
	if c.large > 0 && c.largeTasks > 0 {
		// Each chosen task gets 1 to 3 comments, 2 on average.
		perTask = float64(c.largeComments) / float64(c.largeTasks) / 2
	}
	return func(w, lo, hi int) iter.Seq[*task] {
		return func(yield func(*task) bool) {
			var row task
			for i := lo; i < hi; i++ {
				t := c.plan(i)
				n, g := c.tasksOf(t)
				rc := c.rng(i, streamComments)
				for range n {
					g.next(&row)
					if t.large && perTask > 0 && rc.Float64() < perTask && row.deleted == 0 {
						targets[w] = append(targets[w], commentTarget{tenant: i, task: row.id, created: row.created, count: 1 + rc.IntN(3)})
					}
					if !yield(&row) {
						return
					}
				}
			}
		}
	}
}

// commentRows comments on the targets the tasks phase chose, authored by the tenant's members.
func (c *config) commentRows(targets [][]commentTarget) generator[comment] {
	var all []commentTarget
	for _, t := range targets {
		all = append(all, t...)
	}
	return func(_, lo, hi int) iter.Seq[*comment] {
		return func(yield func(*comment) bool) {
			k := sort.Search(len(all), func(k int) bool { return all[k].tenant >= lo })
			var row comment
			for k < len(all) && all[k].tenant < hi {
				i := all[k].tenant
				t := c.plan(i)
				r := c.rng(i, streamCommentBodies)
				for ; k < len(all) && all[k].tenant == i; k++ {
					tg := all[k]
					at := tg.created
					for range tg.count {
						at += r.Int64N((c.nowMs-at)/4 + 1)
						row = comment{tenant: t.id, id: uuidV7(at, r), task: tg.task, author: t.author(r).id,
							body: paragraph(r, 1+r.IntN(2)), created: at, updated: at}
						if r.IntN(10) == 0 {
							row.updated = at + r.Int64N(c.nowMs-at+1)
						}
						if !yield(&row) {
							return
						}
					}
				}
			}
		}
	}
}
