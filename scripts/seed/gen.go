package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/coditect/hyperscale/shared/work/sample"
)

// Every random choice comes from a generator keyed by (seed, tenant index, stream), so a tenant's rows are the
// same whichever worker produces them and whichever phase asks for them again: the tasks phase re-derives a
// tenant's projects and members instead of holding 1M tenants' worth of them in memory.
const (
	streamPlan          = 1 // the tenant, its people and its projects
	streamTasks         = 2
	streamComments      = 3
	streamCommentBodies = 4
)

// splitmix64 spreads nearby inputs (tenant 7 and tenant 8) over unrelated generator states.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (c *config) rng(tenant int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(c.seed^stream<<56), splitmix64(uint64(tenant))))
}

// uuidV7 builds a UUIDv7 (RFC 9562) for the instant ms, its 74 random bits drawn from r: ids sort by creation
// time, as the application's uuid.NewV7 ids do, but are reproducible from the seed.
func uuidV7(ms int64, r *rand.Rand) [16]byte {
	var u [16]byte
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	a := r.Uint32()
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | byte(a>>8)&0x0f
	u[7] = byte(a)
	u[8] = 0x80 | u[8]&0x3f
	return u
}

// person is an identity and its membership in the tenant.
type person struct {
	id      [16]byte
	created int64 // Unix ms
	role    string
	email   string
	name    string
}

// project is one of a tenant's projects; weight is its share of the tenant's tasks.
type project struct {
	id       [16]byte
	created  int64
	name     string
	desc     string
	status   string
	by       [16]byte
	updated  int64
	deleted  int64 // 0: live
	archived int64 // 0: not archived
	cum      float64
	// team holds the project's members as indexes into the tenant's people, team[0] its creator and owner.
	team     []int
	teamRole []string
}

// tenantPlan is everything about one tenant that more than one phase needs.
type tenantPlan struct {
	index    int
	id       [16]byte
	created  int64
	large    bool
	slug     string
	name     string
	plan     string
	people   []person // people[0] is the owner
	projects []project
}

// span is an inclusive range of counts given as "lo..hi" or "n".
type span struct{ lo, hi int }

func (s span) String() string {
	if s.lo == s.hi {
		return fmt.Sprint(s.lo)
	}
	return fmt.Sprintf("%d..%d", s.lo, s.hi)
}

// Set parses "lo..hi" or "n", so that a span is a flag.Value.
func (s *span) Set(v string) error {
	lo, hi, ok := strings.Cut(v, "..")
	if !ok {
		hi = lo
	}
	var a, b int
	if _, err := fmt.Sscan(lo, &a); err != nil {
		return fmt.Errorf("%q is not a count or a range lo..hi", v)
	}
	if _, err := fmt.Sscan(hi, &b); err != nil {
		return fmt.Errorf("%q is not a count or a range lo..hi", v)
	}
	if a < 0 || b < a {
		return fmt.Errorf("%q: need 0 <= lo <= hi", v)
	}
	s.lo, s.hi = a, b
	return nil
}

func (s span) pick(r *rand.Rand) int { return s.lo + r.IntN(s.hi-s.lo+1) }

const (
	day  = int64(24 * 60 * 60 * 1000)
	year = 365 * day
	// history is how far back the oldest tenant was created.
	history = 3 * year
)

// isLarge spreads the large tenants evenly over the index range, so they are of every age and every worker
// gets its share.
func (c *config) isLarge(i int) bool {
	if c.large == 0 {
		return false
	}
	stride := c.tenants / c.large
	return i%stride == stride/2 && i/stride < c.large
}

// plan derives tenant i. It is called once per tenant per phase; a small tenant costs a few microseconds.
func (c *config) plan(i int) *tenantPlan {
	r := c.rng(i, streamPlan)
	now := c.nowMs
	t := &tenantPlan{
		index:   i,
		created: now - history + int64(i)*(history-day)/int64(c.tenants),
		large:   c.isLarge(i),
		slug:    fmt.Sprintf("t%07d", i+1),
		plan:    "free",
	}
	t.id = uuidV7(t.created, r)
	life := now - t.created
	t.name = fmt.Sprintf("%s %s %07d", title(pick(r, orgWords)), title(pick(r, orgKinds)), i+1)
	if r.IntN(5) == 0 {
		t.plan = "pro"
	}
	t.people = append(t.people, person{id: uuidV7(t.created, r), created: t.created, role: "owner"})
	if t.large {
		t.plan = "enterprise"
		t.name = fmt.Sprintf("Enterprise %s %07d", title(pick(r, orgWords)), i+1)
		for k := 1; k <= c.largeMembers; k++ {
			role := "member"
			switch {
			case k <= c.largeMembers/10:
				role = "admin"
			case k > c.largeMembers-c.largeMembers/10:
				role = "viewer"
			}
			ms := t.created + r.Int64N(life/2+1)
			t.people = append(t.people, person{id: uuidV7(ms, r), created: ms, role: role})
		}
	}
	for k := range t.people {
		p := &t.people[k]
		p.name = pick(r, firstNames) + " " + pick(r, lastNames)
		if k == 0 {
			p.email = t.slug + "-owner@example.com"
		} else {
			p.email = fmt.Sprintf("%s-m%03d@example.com", t.slug, k)
		}
	}
	n := c.smallProjects.pick(r)
	window := life/2 + 1
	if t.large {
		n = c.largeProjects
		window = life*4/5 + 1
	}
	t.projects = make([]project, n)
	total := 0.0
	for k := range t.projects {
		p := &t.projects[k]
		p.created = t.created + r.Int64N(window)
		p.id = uuidV7(p.created, r)
		p.name = title(pick(r, areas)) + " " + pick(r, projectKinds)
		if r.IntN(2) == 0 {
			p.desc = sentence(r)
		}
		creator := t.authorIndex(r)
		p.by = t.people[creator].id
		p.team, p.teamRole = []int{creator}, []string{"owner"}
		if t.large {
			// A project team of 3 to 12: the project's tasks are assigned within it (the access rule that
			// assigning checks: a project with members is open to exactly them and the organization's admins).
			for _, k := range r.Perm(len(t.people))[:min(len(t.people), 2+r.IntN(11))] {
				if k == creator || t.people[k].role == "viewer" {
					continue
				}
				role := "member"
				if r.IntN(10) == 0 {
					role = "admin"
				}
				p.team, p.teamRole = append(p.team, k), append(p.teamRole, role)
			}
		}
		p.updated = p.created + r.Int64N(now-p.created+1)
		p.status = "active"
		switch x := r.IntN(100); {
		case x < 10:
			p.status = "on_hold"
		case x < 20:
			p.status = "completed"
		}
		if t.large {
			switch x := r.IntN(100); {
			case x < 2:
				p.deleted = p.updated
			case x < 7:
				p.archived = p.updated
			}
		}
		// Task counts per project follow a Zipf-like law (weight 1/rank^0.8): with 200 projects and 100,000
		// tasks the biggest project holds about 10,000 tasks and the smallest about 150.
		total += 1 / math.Pow(float64(k+1), 0.8)
		p.cum = total
	}
	for k := range t.projects {
		t.projects[k].cum /= total
	}
	return t
}

// authorIndex picks who created something: anyone but a viewer.
func (t *tenantPlan) authorIndex(r *rand.Rand) int {
	for {
		k := r.IntN(len(t.people))
		if t.people[k].role != "viewer" {
			return k
		}
	}
}

func (t *tenantPlan) author(r *rand.Rand) *person { return &t.people[t.authorIndex(r)] }

// teamMember picks one of a project's team.
func (t *tenantPlan) teamMember(p *project, r *rand.Rand) *person {
	return &t.people[p.team[r.IntN(len(p.team))]]
}

// projectFor picks a task's project by the projects' weights; deleted and archived projects keep their
// tasks, as they would in production.
func (t *tenantPlan) projectFor(r *rand.Rand) *project {
	x := r.Float64()
	lo, hi := 0, len(t.projects)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if t.projects[mid].cum < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return &t.projects[lo]
}

// task is one generated task row.
type task struct {
	tenant    [16]byte
	id        [16]byte
	project   [16]byte
	title     string
	desc      string
	status    string
	priority  int16
	assignee  [16]byte // zero: unassigned
	due       int64    // Unix ms of the day; 0: none
	labels    []string
	position  float64
	version   int32
	by        [16]byte
	created   int64
	updated   int64
	completed int64
	deleted   int64
}

// taskGen produces one tenant's tasks in turn, oldest first: a tenant's tasks reach the table in creation
// order, as they would in production, so its primary key and its id-ordered indexes are appended to rather than
// split at random places.
type taskGen struct {
	c     *config
	t     *tenantPlan
	r     *rand.Rand
	slots []taskSlot
	k     int
	pos   map[*project]float64
}

// taskSlot is a task's project and creation time, drawn for every task before the rest of its fields.
type taskSlot struct {
	created int64
	p       *project
}

func (c *config) tasksOf(t *tenantPlan) (n int, g *taskGen) {
	r := c.rng(t.index, streamTasks)
	n = c.smallTasks.pick(r)
	if t.large {
		n = c.largeTasks
	}
	if len(t.projects) == 0 {
		n = 0
	}
	g = &taskGen{c: c, t: t, r: r, slots: make([]taskSlot, n), pos: make(map[*project]float64, len(t.projects))}
	for k := range g.slots {
		p := &t.projects[0]
		if len(t.projects) > 1 {
			p = t.projectFor(r)
		}
		g.slots[k] = taskSlot{created: p.created + r.Int64N(c.nowMs-p.created-60_000+1), p: p}
	}
	sort.Slice(g.slots, func(a, b int) bool { return g.slots[a].created < g.slots[b].created })
	return n, g
}

// next fills w with the tenant's next task.
func (g *taskGen) next(w *task) {
	r, t, now := g.r, g.t, g.c.nowMs
	s := g.slots[g.k]
	g.k++
	p := s.p
	w.tenant = t.id
	w.project = p.id
	w.created = s.created
	w.id = uuidV7(w.created, r)
	w.title = taskTitle(r)
	w.desc = ""
	if r.IntN(2) == 0 {
		w.desc = paragraph(r, 1+r.IntN(3))
	}
	switch x := r.IntN(100); {
	case x < 35:
		w.status = "todo"
	case x < 53:
		w.status = "in_progress"
	case x < 60:
		w.status = "blocked"
	default:
		w.status = "done"
	}
	switch x := r.IntN(100); {
	case x < 20:
		w.priority = 0
	case x < 70:
		w.priority = 1
	case x < 92:
		w.priority = 2
	default:
		w.priority = 3
	}
	w.assignee = [16]byte{}
	if r.IntN(100) < 60 {
		w.assignee = t.teamMember(p, r).id
	}
	w.due = 0
	if r.IntN(100) < 70 {
		w.due = (now/day + r.Int64N(181) - 90) * day
	}
	// A fresh slice per row: the copy source encodes a row before asking for the next, but nothing should
	// rely on that; and never nil, which would encode as NULL into a NOT NULL column.
	w.labels = noLabels
	nl := 0
	switch x := r.IntN(100); {
	case x < 30:
	case x < 65:
		nl = 1
	case x < 90:
		nl = 2
	default:
		nl = 3
	}
	if nl > 0 {
		w.labels = make([]string, 0, nl)
		for _, k := range r.Perm(len(labelWords))[:nl] {
			w.labels = append(w.labels, labelWords[k])
		}
	}
	g.pos[p] += 1024
	w.position = g.pos[p]
	w.version = int32(1 + r.IntN(5))
	w.by = t.teamMember(p, r).id
	// Most edits come soon after creation: updated_at leans towards created_at.
	u := r.Float64()
	w.updated = w.created + int64(u*u*float64(now-w.created))
	w.completed = 0
	if w.status == "done" {
		w.completed = w.updated
	}
	w.deleted = 0
	if r.IntN(100) == 0 {
		w.deleted = w.updated
	}
}

// comment is one generated comment row.
type comment struct {
	tenant  [16]byte
	id      [16]byte
	task    [16]byte
	author  [16]byte
	body    string
	created int64
	updated int64
}

// commentTarget is a task chosen in the tasks phase to receive comments in the comments phase.
type commentTarget struct {
	tenant  int
	task    [16]byte
	created int64
	count   int
}

var noLabels = []string{}

func pick(r *rand.Rand, words []string) string { return words[r.IntN(len(words))] }

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// taskTitle reads like a tracker entry: "Fix flaky checkout on Android".
func taskTitle(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(pick(r, sample.Verbs))
	if r.IntN(3) > 0 {
		b.WriteByte(' ')
		b.WriteString(pick(r, sample.Adjectives))
	}
	b.WriteByte(' ')
	b.WriteString(pick(r, sample.Nouns))
	if r.IntN(2) == 0 {
		b.WriteByte(' ')
		b.WriteString(pick(r, sample.Contexts))
	}
	return b.String()
}

func sentence(r *rand.Rand) string {
	tpl := pick(r, sentences)
	var b strings.Builder
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		j := strings.IndexByte(tpl, '}')
		switch tpl[i+1 : j] {
		case "verb":
			b.WriteString(strings.ToLower(pick(r, sample.Verbs)))
		case "adj":
			b.WriteString(pick(r, sample.Adjectives))
		case "noun":
			b.WriteString(pick(r, sample.Nouns))
		case "ctx":
			b.WriteString(pick(r, sample.Contexts))
		case "name":
			b.WriteString(pick(r, firstNames))
		case "n":
			fmt.Fprint(&b, 2+r.IntN(40))
		}
		tpl = tpl[j+1:]
	}
}

func paragraph(r *rand.Rand, n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = sentence(r)
	}
	return strings.Join(s, " ")
}

var (
	sentences = []string{
		"The {noun} is {adj} {ctx}.",
		"Customers report that the {noun} looks {adj} {ctx}.",
		"We need to {verb} the {noun} before the next sprint.",
		"Steps to reproduce: open the {noun}, then the {noun}.",
		"{name} suggested we {verb} the {adj} {noun} first.",
		"Blocked until the {noun} is ready.",
		"See the linked ticket about the {adj} {noun}.",
		"About {n} users are affected {ctx}.",
		"Needs QA sign-off on the {noun}.",
		"Follow-up from the incident with the {noun} {ctx}.",
		"Acceptance: the {noun} works {ctx} and the {noun} is updated.",
		"Estimate: {n} hours, mostly on the {adj} {noun}.",
	}
	labelWords = []string{"bug", "feature", "chore", "frontend", "backend", "design", "docs", "security",
		"performance", "infra", "customer", "tech-debt"}
	areas = []string{"checkout", "billing", "onboarding", "search", "mobile app", "admin console", "reporting",
		"notifications", "integrations", "platform", "website", "data pipeline", "security", "infrastructure",
		"support portal", "marketing site", "analytics", "identity", "payments", "growth"}
	projectKinds = []string{"redesign", "migration", "launch", "cleanup", "v2", "revamp", "audit", "roadmap",
		"hardening", "experiments", "backlog", "Q1 goals", "Q2 goals", "Q3 goals", "Q4 goals"}
	orgWords = []string{"acme", "globex", "initech", "umbrella", "stark", "wayne", "wonka", "hooli", "pied piper",
		"vandelay", "soylent", "tyrell", "cyberdyne", "aperture", "monarch", "nakatomi", "oscorp", "gringotts"}
	orgKinds   = []string{"labs", "systems", "industries", "software", "logistics", "health", "studio", "partners"}
	firstNames = []string{"Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
		"Edsger", "Radia", "Tim", "Katherine", "Donald", "Sophie", "John", "Hedy", "Guido", "Annie", "Rob"}
	lastNames = []string{"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie",
		"Allen", "Dijkstra", "Perlman", "Berners-Lee", "Johnson", "Knuth", "Wilson", "McCarthy", "Lamarr",
		"van Rossum", "Easley", "Pike"}
)
