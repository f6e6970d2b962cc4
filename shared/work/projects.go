// Package work holds the product's domain: projects and their members, tasks, comments, attachments and the
// reading of the activity trail. Every method takes the tenant explicitly, runs inside db.InTenant, names
// tenant_id in its SQL (so Citus routes it to one shard; row-level security is the second wall), and writes
// its activity row and outbox event in the transaction of the change.
package work

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/events"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Project statuses.
const (
	ProjectActive    = "active"
	ProjectOnHold    = "on_hold"
	ProjectCompleted = "completed"
)

// ProjectStatuses lists every project status.
var ProjectStatuses = []string{ProjectActive, ProjectOnHold, ProjectCompleted}

// RestoreWindowDays is how long a deleted project stays restorable.
const RestoreWindowDays = 30

// Errors of project operations beyond the data library's sentinels; the HTTP edge maps each to its answer.
var (
	// ErrProjectForbidden: the actor's organization and project roles do not allow the change.
	ErrProjectForbidden = errors.New("project role does not allow this")
	// ErrProjectNotDeleted: restore was asked of a live project.
	ErrProjectNotDeleted = errors.New("project is not deleted")
	// ErrRestoreWindowPassed: the project was deleted more than RestoreWindowDays ago.
	ErrRestoreWindowPassed = errors.New("project restore window has passed")
	// ErrLastProjectOwner: the change would leave the project without an owner.
	ErrLastProjectOwner = errors.New("project would have no owner")
	// ErrAlreadyProjectMember: the identity is a member of the project already.
	ErrAlreadyProjectMember = errors.New("already a project member")
)

// Project is a tenant's project as the API shows it.
type Project struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Archived    bool      `json:"archived"`
	// ArchivedAt is when the project was archived, null while it is not.
	ArchivedAt *time.Time `json:"archived_at"`
	CreatedBy  uuid.UUID  `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// ProjectInput is what a client sends to create or replace a project. PUT replaces name and description (an
// absent description becomes empty); status and archived, when absent, keep their current values (on create:
// active and not archived), so that renaming a project never reopens or unarchives it by omission.
type ProjectInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Status is one of ProjectStatuses.
	Status *string `json:"status,omitempty"`
	// Archived archives the project (true) or brings it back from the archive (false).
	Archived *bool `json:"archived,omitempty"`
}

// Limits on a project's fields, matching the table's check constraints.
const (
	MaxNameLength        = 200
	MaxDescriptionLength = 10000
)

// Validate trims the input and reports every failing field.
func (in *ProjectInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	var errs valid.Errors
	errs.Check(in.Name != "", "name", "is required")
	errs.Check(utf8.RuneCountInString(in.Name) <= MaxNameLength, "name", fmt.Sprintf("must be at most %d characters", MaxNameLength))
	errs.Check(utf8.RuneCountInString(in.Description) <= MaxDescriptionLength, "description", fmt.Sprintf("must be at most %d characters", MaxDescriptionLength))
	// PostgreSQL text cannot hold NUL; refusing it here keeps it a 422 rather than a driver error.
	errs.Check(!strings.ContainsRune(in.Name, 0), "name", "must not contain NUL characters")
	errs.Check(!strings.ContainsRune(in.Description, 0), "description", "must not contain NUL characters")
	if in.Status != nil {
		errs.Check(slices.Contains(ProjectStatuses, *in.Status), "status", "must be one of "+strings.Join(ProjectStatuses, ", "))
	}
	return errs.Err()
}

// Projects is the store of projects.
type Projects struct {
	tenants *db.Tenants
}

// NewProjects returns the project store over the tenant handle.
func NewProjects(tenants *db.Tenants) *Projects {
	return &Projects{tenants: tenants}
}

const projectColumns = `id, name, description, status, archived_at, created_by, created_at, updated_at`

func scanProject(row pgx.Row, extra ...any) (Project, error) {
	var p Project
	err := row.Scan(append([]any{&p.ID, &p.Name, &p.Description, &p.Status, &p.ArchivedAt, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt}, extra...)...)
	p.Archived = p.ArchivedAt != nil
	return p, err
}

// Create adds a project to tenantID on behalf of actorID, who becomes the project's owner in the same
// transaction.
func (s *Projects) Create(ctx context.Context, tenantID, actorID uuid.UUID, in ProjectInput) (Project, error) {
	if err := in.Validate(); err != nil {
		return Project{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	status := ProjectActive
	if in.Status != nil {
		status = *in.Status
	}
	archived := in.Archived != nil && *in.Archived
	var p Project
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		p, err = scanProject(tx.QueryRow(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, description, status, archived_at, created_by)
			VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::boolean THEN now() END, $7) RETURNING `+projectColumns,
			tenantID, id, in.Name, in.Description, status, archived, actorID))
		if err != nil {
			return err
		}
		if err := writeProjectNameSuffixes(ctx, tx, tenantID, id, p.Name, false); err != nil {
			return err
		}
		// Full-text search rows of the name and description (search.go).
		if err := writeSearchTerms(ctx, tx, nil, tenantID, searchKindProject, id, searchText{}, searchText{title: p.Name, body: p.Description}); err != nil {
			return err
		}
		if actorID != uuid.Nil {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role)
				VALUES ($1, $2, $3, $4)`, tenantID, id, actorID, ProjectRoleOwner); err != nil {
				return err
			}
		}
		changes := map[string]activity.Change{"name": {New: p.Name}, "description": {New: p.Description}, "status": {New: p.Status}}
		if p.Archived {
			changes["archived"] = activity.Change{New: true}
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Created, Changes: changes,
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectCreated, pubsub.ProjectCreated{ProjectID: id, Name: p.Name, ActorID: actorID})
		return err
	})
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	return p, nil
}

// Get returns a live project of tenantID, archived or not. A deleted project, or one of another tenant, is
// db.ErrNotFound.
func (s *Projects) Get(ctx context.Context, tenantID, id uuid.UUID) (Project, error) {
	var p Project
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		p, err = scanProject(tx.QueryRow(ctx, `SELECT `+projectColumns+` FROM tenant.projects
			WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, id))
		return err
	})
	if err != nil {
		return Project{}, fmt.Errorf("load project %s: %w", id, err)
	}
	return p, nil
}

// Project list orderings, as the order parameter names them; a leading "-" sorts descending.
const (
	// ProjectOrderCreated sorts by creation, which is id order (UUIDv7).
	ProjectOrderCreated = "created"
	// ProjectOrderUpdated sorts by the last change. A project changed while a client pages moves, so it may
	// be seen twice or not at all in that walk: the keyset follows the rows' current position.
	ProjectOrderUpdated = "updated"
	// ProjectOrderName sorts case-insensitively by name.
	ProjectOrderName = "name"
)

// DefaultProjectOrder is the ordering of a list that names none: newest first.
const DefaultProjectOrder = "-" + ProjectOrderCreated

// MaxProjectSearchLength bounds the q parameter.
const MaxProjectSearchLength = 200

// ProjectQuery is a parsed GET /v1/projects: filters, ordering and the page.
type ProjectQuery struct {
	// Status keeps projects of one status; "" keeps all.
	Status string
	// Archived lists archived projects instead of the others.
	Archived bool
	// Member keeps projects that identity is a project member of; uuid.Nil keeps all.
	Member uuid.UUID
	// Search keeps projects whose name contains it, ignoring case; "" keeps all.
	Search string
	// Order is a project ordering with an optional "-" prefix; "" means DefaultProjectOrder.
	Order string
	// Limit is the page size.
	Limit int

	after *projectCursor
}

// projectCursor is the content of a project list cursor: the ordering it was issued for, so that it cannot be
// replayed against another, and the last row's sort key and id.
type projectCursor struct {
	Order string    `json:"o"`
	Key   string    `json:"k,omitempty"`
	After uuid.UUID `json:"a"`
}

// ParseProjectQuery reads a project list's query parameters: status, archived, member, q, order, limit and
// cursor. Every bad parameter is reported at once, as a valid.Errors naming it.
func ParseProjectQuery(v url.Values) (ProjectQuery, error) {
	q := ProjectQuery{Order: DefaultProjectOrder}
	var errs valid.Errors
	req, err := page.Parse(url.Values{"limit": v["limit"]})
	var limitErrs valid.Errors
	if errors.As(err, &limitErrs) {
		errs = append(errs, limitErrs...)
	}
	q.Limit = req.Limit
	if s := v.Get("status"); s != "" {
		q.Status = s
		errs.Check(slices.Contains(ProjectStatuses, s), "status", "must be one of "+strings.Join(ProjectStatuses, ", "))
	}
	switch s := v.Get("archived"); s {
	case "", "false":
	case "true":
		q.Archived = true
	default:
		errs.Add("archived", "must be true or false")
	}
	if s := v.Get("member"); s != "" {
		id, err := uuid.Parse(s)
		errs.Check(err == nil && id != uuid.Nil, "member", "must be an identity id (UUID)")
		q.Member = id
	}
	if s := strings.TrimSpace(v.Get("q")); s != "" {
		q.Search = s
		errs.Check(utf8.RuneCountInString(s) <= MaxProjectSearchLength, "q", fmt.Sprintf("must be at most %d characters", MaxProjectSearchLength))
		errs.Check(utf8.ValidString(s) && !strings.ContainsRune(s, 0), "q", "must be valid text without NUL characters")
	}
	if s := v.Get("order"); s != "" {
		q.Order = s
		errs.Check(slices.Contains([]string{ProjectOrderCreated, ProjectOrderUpdated, ProjectOrderName}, strings.TrimPrefix(s, "-")),
			"order", "must be name, created or updated, with a leading - for descending")
	}
	if s := v.Get("cursor"); s != "" {
		c, ok := decodeProjectCursor(s)
		switch {
		case !ok:
			errs.Add("cursor", "is not a cursor this API issued")
		case c.Order != q.Order:
			errs.Add("cursor", "was issued for another ordering; start again without a cursor")
		default:
			q.after = &c
		}
	}
	return q, errs.Err()
}

func decodeProjectCursor(s string) (projectCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c projectCursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.After == uuid.Nil || c.Order == "" {
		return c, false
	}
	if strings.TrimPrefix(c.Order, "-") == ProjectOrderUpdated {
		if _, err := time.Parse(time.RFC3339Nano, c.Key); err != nil {
			return c, false
		}
	}
	return c, true
}

func (c projectCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// projectNamePattern turns a search into an ILIKE pattern matching names that contain it literally.
func projectNamePattern(search string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(search) + "%"
}

// projectNameWords splits the lower-cased s into its words: maximal runs of letters and digits.
func projectNameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// projectNameSuffixes returns every suffix of every word of name, once each: the rows of
// tenant.project_name_suffixes that let a search find the name. If a name contains a search, the search's
// longest word lies inside one of the name's words, so one of these suffixes starts with it.
func projectNameSuffixes(name string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range projectNameWords(name) {
		for i := range w {
			if sfx := w[i:]; !seen[sfx] {
				seen[sfx] = true
				out = append(out, sfx)
			}
		}
	}
	return out
}

// writeProjectNameSuffixes replaces a project's search rows, in the transaction that set its name.
func writeProjectNameSuffixes(ctx context.Context, tx pgx.Tx, tenantID, projectID uuid.UUID, name string, replace bool) error {
	if replace {
		if _, err := tx.Exec(ctx, `DELETE FROM tenant.project_name_suffixes WHERE tenant_id = $1 AND project_id = $2`, tenantID, projectID); err != nil {
			return err
		}
	}
	suffixes := projectNameSuffixes(name)
	if len(suffixes) == 0 {
		return nil
	}
	// INSERT ... VALUES rather than a SELECT over unnest(): Citus refuses INSERT ... SELECT under RLS.
	var b strings.Builder
	b.WriteString(`INSERT INTO tenant.project_name_suffixes (tenant_id, project_id, suffix) VALUES `)
	args := []any{tenantID, projectID}
	for i, sfx := range suffixes {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, sfx)
		b.WriteString(`($1, $2, $` + strconv.Itoa(len(args)) + `)`)
	}
	_, err := tx.Exec(ctx, b.String(), args...)
	return err
}

// maxProjectSearchWords bounds how many of a search's words narrow the candidates; ILIKE checks the rest.
const maxProjectSearchWords = 3

// projectSearchRanges returns, for the longest few words of search, the range of suffixes [lo, hi) that
// start with the word, in byte order (code point order in UTF-8, and the C collation of the suffix column).
// hi is "" when no string follows the range. A search without words (only punctuation) has no ranges, and
// only the ILIKE recheck answers it. Each range must match for a name that contains the search; the planner
// drives the query from the most selective one, by the column's statistics.
func projectSearchRanges(search string) (ranges [][2]string) {
	words := projectNameWords(search)
	slices.SortStableFunc(words, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	words = slices.Compact(words)
	for _, lo := range words[:min(len(words), maxProjectSearchWords)] {
		// Every string that starts with lo sorts before lo with its last rune replaced by the next code point.
		last, size := utf8.DecodeLastRuneInString(lo)
		next, hi := last+1, ""
		if next == 0xD800 { // skip the surrogates, which UTF-8 cannot encode
			next = 0xE000
		}
		if next <= unicode.MaxRune {
			hi = lo[:len(lo)-size] + string(next)
		}
		ranges = append(ranges, [2]string{lo, hi})
	}
	return ranges
}

// listSQL builds the list query of q. Each ordering walks its own index (projects_live, projects_live_name,
// projects_live_updated) from the cursor's (sort key, id), which is an index condition; filters narrow the
// walk; archived=true reads the small projects_archived index; q= reads the ranges of name suffixes that
// start with its longest words, and ILIKE rechecks the candidates. Every condition uses leakproof operators
// only, so row-level security lets them be index conditions (schema/tenant/00007).
func (q ProjectQuery) listSQL(tenantID uuid.UUID) (string, []any) {
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	// name_key (lower(name), stored) is selected so that a name cursor carries PostgreSQL's case folding.
	b.WriteString(`SELECT ` + projectColumns + `, name_key FROM tenant.projects WHERE tenant_id = $1 AND deleted_at IS NULL`)
	if q.Archived {
		b.WriteString(` AND archived_at IS NOT NULL`)
	} else {
		b.WriteString(` AND archived_at IS NULL`)
	}
	if q.Status != "" {
		b.WriteString(` AND status = ` + arg(q.Status))
	}
	if q.Member != uuid.Nil {
		b.WriteString(` AND id IN (SELECT project_id FROM tenant.project_members WHERE tenant_id = $1 AND identity_id = ` + arg(q.Member) + `)`)
	}
	if q.Search != "" {
		for _, r := range projectSearchRanges(q.Search) {
			b.WriteString(` AND id IN (SELECT project_id FROM tenant.project_name_suffixes WHERE tenant_id = $1 AND suffix >= ` + arg(r[0]))
			if r[1] != "" {
				b.WriteString(` AND suffix < ` + arg(r[1]))
			}
			b.WriteString(`)`)
		}
		b.WriteString(` AND name ILIKE ` + arg(projectNamePattern(q.Search)))
	}
	order := q.Order
	if order == "" {
		order = DefaultProjectOrder
	}
	desc := strings.HasPrefix(order, "-")
	cmp, dir := ">", ""
	if desc {
		cmp, dir = "<", " DESC"
	}
	switch strings.TrimPrefix(order, "-") {
	case ProjectOrderName:
		if q.after != nil {
			b.WriteString(` AND (name_key, id) ` + cmp + ` (` + arg(q.after.Key) + `, ` + arg(q.after.After) + `)`)
		}
		b.WriteString(` ORDER BY name_key` + dir + `, id` + dir)
	case ProjectOrderUpdated:
		if q.after != nil {
			t, _ := time.Parse(time.RFC3339Nano, q.after.Key)
			b.WriteString(` AND (updated_at, id) ` + cmp + ` (` + arg(t) + `, ` + arg(q.after.After) + `)`)
		}
		b.WriteString(` ORDER BY updated_at` + dir + `, id` + dir)
	default:
		if q.after != nil {
			b.WriteString(` AND id ` + cmp + ` ` + arg(q.after.After))
		}
		b.WriteString(` ORDER BY id` + dir)
	}
	b.WriteString(` LIMIT ` + arg(q.Limit+1))
	return b.String(), args
}

// List returns one page of tenantID's live projects that match q, in q's ordering.
func (s *Projects) List(ctx context.Context, tenantID uuid.UUID, q ProjectQuery) (page.Page[Project], error) {
	if q.Limit < 1 || q.Limit > page.MaxLimit {
		q.Limit = page.DefaultLimit
	}
	if q.Order == "" {
		q.Order = DefaultProjectOrder
	}
	sql, args := q.listSQL(tenantID)
	if q.Search != "" {
		// A search's plan depends on its words: a suffix range may hold one project or every one. A cached
		// generic plan guesses one selectivity for all ranges and can drive the join from the widest, so
		// searches are planned for their values each time (an unnamed statement, one round trip as well).
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	var (
		items []Project
		keys  []string
	)
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Project, error) {
			var key string
			p, err := scanProject(r, &key)
			keys = append(keys, key)
			return p, err
		})
		return err
	})
	if err != nil {
		return page.Page[Project]{}, fmt.Errorf("list projects: %w", err)
	}
	out := page.Page[Project]{Items: items}
	if out.Items == nil {
		out.Items = []Project{}
	}
	if len(items) > q.Limit {
		out.Items = items[:q.Limit]
		last := out.Items[q.Limit-1]
		c := projectCursor{Order: q.Order, After: last.ID}
		switch strings.TrimPrefix(q.Order, "-") {
		case ProjectOrderName:
			c.Key = keys[q.Limit-1]
		case ProjectOrderUpdated:
			c.Key = last.UpdatedAt.UTC().Format(time.RFC3339Nano)
		}
		next := c.encode()
		out.NextCursor = &next
	}
	return out, nil
}

// Update replaces a live project's name and description, and its status and archive state when in gives them.
// A write that changes nothing records nothing.
func (s *Projects) Update(ctx context.Context, tenantID, actorID, id uuid.UUID, in ProjectInput) (Project, error) {
	if err := in.Validate(); err != nil {
		return Project{}, err
	}
	var p Project
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		old, err := scanProject(tx.QueryRow(ctx, `SELECT `+projectColumns+` FROM tenant.projects
			WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, tenantID, id))
		if err != nil {
			return err
		}
		status, archived := old.Status, old.Archived
		if in.Status != nil {
			status = *in.Status
		}
		if in.Archived != nil {
			archived = *in.Archived
		}
		changes := map[string]activity.Change{}
		if old.Name != in.Name {
			changes["name"] = activity.Change{Old: old.Name, New: in.Name}
		}
		if old.Description != in.Description {
			changes["description"] = activity.Change{Old: old.Description, New: in.Description}
		}
		if old.Status != status {
			changes["status"] = activity.Change{Old: old.Status, New: status}
		}
		if old.Archived != archived {
			changes["archived"] = activity.Change{Old: old.Archived, New: archived}
		}
		if len(changes) == 0 {
			p = old
			return nil
		}
		p, err = scanProject(tx.QueryRow(ctx, `UPDATE tenant.projects SET name = $3, description = $4, status = $5,
				archived_at = CASE WHEN $6::boolean THEN coalesce(archived_at, now()) END, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+projectColumns, tenantID, id, in.Name, in.Description, status, archived))
		if err != nil {
			return err
		}
		if _, renamed := changes["name"]; renamed {
			if err := writeProjectNameSuffixes(ctx, tx, tenantID, id, p.Name, true); err != nil {
				return err
			}
		}
		// Full-text search rows (search.go); nothing to do, and no round trip, unless the text changed.
		if err := writeSearchTerms(ctx, tx, nil, tenantID, searchKindProject, id,
			searchText{title: old.Name, body: old.Description}, searchText{title: p.Name, body: p.Description}); err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Updated, Changes: changes,
		}); err != nil {
			return err
		}
		changed := make([]string, 0, len(changes))
		for _, f := range []string{"name", "description", "status", "archived"} {
			if _, ok := changes[f]; ok {
				changed = append(changed, f)
			}
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectUpdated, pubsub.ProjectUpdated{ProjectID: id, Changed: changed, ActorID: actorID})
		return err
	})
	if err != nil {
		return Project{}, fmt.Errorf("update project %s: %w", id, err)
	}
	return p, nil
}

// lockedProject is a project row locked for a change, with the acting identity's role in it.
type lockedProject struct {
	deletedAt *time.Time
	// restorable is true for a project deleted less than RestoreWindowDays ago.
	restorable bool
	// actorRole is the actor's project role, "" when they are not a project member.
	actorRole string
}

// lockProject locks the project row (deleted or not), which serialises every change to the project and its
// membership, and reads the actor's project role in the same round trip.
func lockProject(ctx context.Context, tx pgx.Tx, tenantID, id, actorID uuid.UUID) (lockedProject, error) {
	var l lockedProject
	var role *string
	err := tx.QueryRow(ctx, `SELECT p.deleted_at, coalesce(p.deleted_at > now() - make_interval(days => $4), false),
			(SELECT m.role FROM tenant.project_members m WHERE m.tenant_id = $1 AND m.project_id = $2 AND m.identity_id = $3)
		FROM tenant.projects p WHERE p.tenant_id = $1 AND p.id = $2 FOR UPDATE OF p`, tenantID, id, actorID, RestoreWindowDays).
		Scan(&l.deletedAt, &l.restorable, &role)
	if role != nil {
		l.actorRole = *role
	}
	return l, err
}

// orgManagesProjects reports whether an organization role manages every project of the organization.
func orgManagesProjects(orgRole string) bool {
	return orgRole == access.Owner || orgRole == access.Admin
}

// Delete soft-deletes a live project: it disappears from reads, with its tasks, comments and attachments, but
// stays restorable for RestoreWindowDays. Organization owners and admins and the project's owners and admins
// may delete it; others get ErrProjectForbidden.
func (s *Projects) Delete(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, id uuid.UUID) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockProject(ctx, tx, tenantID, id, actorID)
		if err != nil {
			return err
		}
		if l.deletedAt != nil {
			return db.ErrNotFound
		}
		if !orgManagesProjects(actorOrgRole) && l.actorRole != ProjectRoleOwner && l.actorRole != ProjectRoleAdmin {
			return ErrProjectForbidden
		}
		var deletedAt time.Time
		if err := tx.QueryRow(ctx, `UPDATE tenant.projects SET deleted_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING deleted_at`, tenantID, id).Scan(&deletedAt); err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Deleted,
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectDeleted, pubsub.ProjectDeleted{ProjectID: id, DeletedAt: deletedAt, ActorID: actorID})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete project %s: %w", id, err)
	}
	return nil
}

// Activity actions of projects beyond created, updated and deleted. Membership changes are recorded on the
// project (entity "project", its id), so the project's trail shows who joined and left it.
const (
	ActionRestored          = "restored"
	ActionMemberAdded       = "member_added"
	ActionMemberRoleChanged = "member_role_changed"
	ActionMemberRemoved     = "member_removed"
)

// Restore brings back a project deleted less than RestoreWindowDays ago, with everything it hid. Who may:
// as Delete. A live project is ErrProjectNotDeleted, one deleted longer ago ErrRestoreWindowPassed, an
// unknown one (or another tenant's) db.ErrNotFound.
func (s *Projects) Restore(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, id uuid.UUID) (Project, error) {
	var p Project
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockProject(ctx, tx, tenantID, id, actorID)
		if err != nil {
			return err
		}
		if !orgManagesProjects(actorOrgRole) && l.actorRole != ProjectRoleOwner && l.actorRole != ProjectRoleAdmin {
			return ErrProjectForbidden
		}
		switch {
		case l.deletedAt == nil:
			return ErrProjectNotDeleted
		case !l.restorable:
			return ErrRestoreWindowPassed
		}
		p, err = scanProject(tx.QueryRow(ctx, `UPDATE tenant.projects SET deleted_at = NULL, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+projectColumns, tenantID, id))
		if err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: ActionRestored,
			Changes: map[string]activity.Change{"deleted_at": {Old: *l.deletedAt, New: nil}},
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectRestored, pubsub.ProjectRestored{ProjectID: id, DeletedAt: *l.deletedAt, ActorID: actorID})
		return err
	})
	if err != nil {
		return Project{}, fmt.Errorf("restore project %s: %w", id, err)
	}
	return p, nil
}

// ProjectAccess reports, inside the caller's tenant transaction tx, whether identityID, whose organization
// role is orgRole, has access to tenantID's live project projectID, for a store that checks access and writes
// in one transaction (assigning a task). The rule: organization owners and admins always have access;
// otherwise, when the project has members, exactly its members (whatever their project role); a project
// without members is open to every organization member except viewers. An empty or unknown orgRole (not a
// member of the organization) has no access. An unknown or deleted project is db.ErrNotFound. Callers take
// orgRole from the directory (OrganizationRole), never from the request.
func ProjectAccess(ctx context.Context, tx pgx.Tx, tenantID, projectID, identityID uuid.UUID, orgRole string) (bool, error) {
	var hasMembers, isMember bool
	err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2),
			EXISTS (SELECT 1 FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3)
		FROM tenant.projects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, projectID, identityID).Scan(&hasMembers, &isMember)
	if err != nil {
		return false, db.Classify(err)
	}
	switch {
	case !access.ValidRole(orgRole):
		return false, nil
	case orgManagesProjects(orgRole):
		return true, nil
	case hasMembers:
		return isMember, nil
	default:
		return orgRole != access.Viewer, nil
	}
}

// OrganizationRole returns identityID's role in organization tenantID from the directory, and db.ErrNotFound
// when they are not a member.
func OrganizationRole(ctx context.Context, dir *db.Directory, tenantID, identityID uuid.UUID) (string, error) {
	var role string
	err := dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT role FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`, tenantID, identityID).Scan(&role)
	})
	if err != nil {
		return "", fmt.Errorf("organization role of %s: %w", identityID, err)
	}
	return role, nil
}

// Project roles, on top of the organization roles. A project owner manages the project (members, deletion,
// restore) including its other owners; a project admin manages it except for owners (it may not add, change
// or remove an owner, nor make one); a project member has access to it. Organization owners and admins manage
// every project as project owners do. An organization viewer may be a project member, never owner or admin.
const (
	ProjectRoleOwner  = "owner"
	ProjectRoleAdmin  = "admin"
	ProjectRoleMember = "member"
)

// ProjectRoles lists every project role.
var ProjectRoles = []string{ProjectRoleOwner, ProjectRoleAdmin, ProjectRoleMember}

// ProjectMember is one identity's membership of a project.
type ProjectMember struct {
	ProjectID  uuid.UUID `json:"project_id"`
	IdentityID uuid.UUID `json:"identity_id"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
}

// ProjectMemberInput is what a client sends to add a member to a project.
type ProjectMemberInput struct {
	IdentityID string `json:"identity_id"`
	Role       string `json:"role"`
}

// ProjectRoleInput is what a client sends to change a project member's role.
type ProjectRoleInput struct {
	Role string `json:"role"`
}

func checkProjectRole(errs *valid.Errors, role string) {
	errs.Check(slices.Contains(ProjectRoles, role), "role", "must be one of "+strings.Join(ProjectRoles, ", "))
}

// ProjectMembers is the store of project memberships. It reads the directory to check that a new member
// belongs to the organization, so it holds both handles.
type ProjectMembers struct {
	dir     *db.Directory
	tenants *db.Tenants
}

// NewProjectMembers returns the project membership store over d's directory and tenant handles.
func NewProjectMembers(d *db.DB) *ProjectMembers {
	return &ProjectMembers{dir: d.Directory, tenants: d.Tenants}
}

// mayManageProjectMember reports whether an actor may move a member from oldRole to newRole ("" for absent,
// so adding has oldRole "" and removing newRole "").
func mayManageProjectMember(actorOrgRole, actorProjectRole, oldRole, newRole string) bool {
	switch {
	case orgManagesProjects(actorOrgRole), actorProjectRole == ProjectRoleOwner:
		return true
	case actorProjectRole == ProjectRoleAdmin:
		return oldRole != ProjectRoleOwner && newRole != ProjectRoleOwner
	}
	return false
}

// checkOrganizationMember reads the directory to check that identityID belongs to the organization and that
// an organization viewer is given no managing project role. It runs before the tenant transaction rather than
// inside it: the stores are never in one transaction, and holding a tenant connection while waiting for a
// directory one could exhaust a shared pool. When the check fails, an unknown project (or another tenant's),
// or when existing is set a project member that is not there, still answers db.ErrNotFound, so the failure
// says nothing about ids outside the caller's organization.
func (s *ProjectMembers) checkOrganizationMember(ctx context.Context, tenantID, projectID, identityID uuid.UUID, role string, existing bool) error {
	var errs valid.Errors
	orgRole, err := OrganizationRole(ctx, s.dir, tenantID, identityID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		errs.Add("identity_id", "is not a member of the organization")
	case err != nil:
		return err
	case orgRole == access.Viewer && role != ProjectRoleMember:
		errs.Add("role", "an organization viewer can only be a project member")
	default:
		return nil
	}
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		var live bool
		return tx.QueryRow(ctx, `SELECT true FROM tenant.projects p WHERE p.tenant_id = $1 AND p.id = $2 AND p.deleted_at IS NULL
			AND (NOT $4 OR EXISTS (SELECT 1 FROM tenant.project_members m WHERE m.tenant_id = $1 AND m.project_id = $2 AND m.identity_id = $3))`,
			tenantID, projectID, identityID, existing).Scan(&live)
	})
	if err != nil {
		return err
	}
	return errs
}

// List returns one page of a live project's members, by identity id.
func (s *ProjectMembers) List(ctx context.Context, tenantID, projectID uuid.UUID, req page.Request) (page.Page[ProjectMember], error) {
	var items []ProjectMember
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// One statement answers both "does the project exist" (no row) and its page (NULL member when empty).
		rows, err := tx.Query(ctx, `SELECT m.identity_id, m.role, m.created_at FROM tenant.projects p
			LEFT JOIN LATERAL (SELECT identity_id, role, created_at FROM tenant.project_members
				WHERE tenant_id = $1 AND project_id = $2 AND identity_id > $3 ORDER BY identity_id LIMIT $4) m ON true
			WHERE p.tenant_id = $1 AND p.id = $2 AND p.deleted_at IS NULL`, tenantID, projectID, req.After, req.Limit+1)
		if err != nil {
			return err
		}
		found := false
		for rows.Next() {
			found = true
			var (
				id      *uuid.UUID
				role    *string
				created *time.Time
			)
			if err := rows.Scan(&id, &role, &created); err != nil {
				rows.Close()
				return err
			}
			if id != nil {
				items = append(items, ProjectMember{ProjectID: projectID, IdentityID: *id, Role: *role, CreatedAt: *created})
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return db.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return page.Page[ProjectMember]{}, fmt.Errorf("list members of project %s: %w", projectID, err)
	}
	return page.Of(req, items, func(m ProjectMember) uuid.UUID { return m.IdentityID }), nil
}

// Add makes an organization member a member of a live project. The actor (actorID with organization role
// actorOrgRole) must manage the project; a project admin may not add an owner (ErrProjectForbidden). An
// identity outside the organization, or a viewer given owner or admin, is a valid.Errors; a member already
// there is ErrAlreadyProjectMember.
func (s *ProjectMembers) Add(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, projectID uuid.UUID, in ProjectMemberInput) (ProjectMember, error) {
	var errs valid.Errors
	identityID, err := uuid.Parse(in.IdentityID)
	errs.Check(err == nil && identityID != uuid.Nil, "identity_id", "must be an identity id (UUID)")
	checkProjectRole(&errs, in.Role)
	if err := errs.Err(); err != nil {
		return ProjectMember{}, err
	}
	if err := s.checkOrganizationMember(ctx, tenantID, projectID, identityID, in.Role, false); err != nil {
		return ProjectMember{}, fmt.Errorf("add member to project %s: %w", projectID, err)
	}
	m := ProjectMember{ProjectID: projectID, IdentityID: identityID, Role: in.Role}
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockProject(ctx, tx, tenantID, projectID, actorID)
		if err != nil {
			return err
		}
		if l.deletedAt != nil {
			return db.ErrNotFound
		}
		if !mayManageProjectMember(actorOrgRole, l.actorRole, "", in.Role) {
			return ErrProjectForbidden
		}
		err = tx.QueryRow(ctx, `INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, project_id, identity_id) DO NOTHING RETURNING created_at`,
			tenantID, projectID, identityID, in.Role).Scan(&m.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrAlreadyProjectMember
		}
		if err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: projectID, Action: ActionMemberAdded,
			Changes: map[string]activity.Change{"identity_id": {New: identityID}, "role": {New: in.Role}},
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectMemberAdded,
			pubsub.ProjectMemberAdded{ProjectID: projectID, IdentityID: identityID, Role: in.Role, ActorID: actorID})
		return err
	})
	if err != nil {
		return ProjectMember{}, fmt.Errorf("add member to project %s: %w", projectID, err)
	}
	return m, nil
}

// loadProjectMember reads and locks one member row of a locked project.
func loadProjectMember(ctx context.Context, tx pgx.Tx, tenantID, projectID, identityID uuid.UUID) (ProjectMember, error) {
	m := ProjectMember{ProjectID: projectID, IdentityID: identityID}
	err := tx.QueryRow(ctx, `SELECT role, created_at FROM tenant.project_members
		WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3 FOR UPDATE`, tenantID, projectID, identityID).Scan(&m.Role, &m.CreatedAt)
	return m, err
}

// lastProjectOwner reports whether the project has exactly one owner. The project row is locked, so no
// concurrent change can remove the other owner between this count and the write.
func lastProjectOwner(ctx context.Context, tx pgx.Tx, tenantID, projectID uuid.UUID) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2 AND role = $3`,
		tenantID, projectID, ProjectRoleOwner).Scan(&n)
	return n <= 1, err
}

// SetRole changes a project member's role. Permissions as Add (a project admin may neither promote to nor
// demote from owner); demoting the last owner is ErrLastProjectOwner; an organization viewer cannot be made
// owner or admin (valid.Errors). Setting the role a member has already changes and records nothing.
func (s *ProjectMembers) SetRole(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, projectID, identityID uuid.UUID, in ProjectRoleInput) (ProjectMember, error) {
	var errs valid.Errors
	checkProjectRole(&errs, in.Role)
	if err := errs.Err(); err != nil {
		return ProjectMember{}, err
	}
	if in.Role != ProjectRoleMember {
		if err := s.checkOrganizationMember(ctx, tenantID, projectID, identityID, in.Role, true); err != nil {
			return ProjectMember{}, fmt.Errorf("change role of %s in project %s: %w", identityID, projectID, err)
		}
	}
	var m ProjectMember
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockProject(ctx, tx, tenantID, projectID, actorID)
		if err != nil {
			return err
		}
		if l.deletedAt != nil {
			return db.ErrNotFound
		}
		if m, err = loadProjectMember(ctx, tx, tenantID, projectID, identityID); err != nil {
			return err
		}
		old := m.Role
		if !mayManageProjectMember(actorOrgRole, l.actorRole, old, in.Role) {
			return ErrProjectForbidden
		}
		if old == in.Role {
			return nil
		}
		if old == ProjectRoleOwner {
			last, err := lastProjectOwner(ctx, tx, tenantID, projectID)
			if err != nil {
				return err
			}
			if last {
				return ErrLastProjectOwner
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE tenant.project_members SET role = $4 WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3`,
			tenantID, projectID, identityID, in.Role); err != nil {
			return err
		}
		m.Role = in.Role
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: projectID, Action: ActionMemberRoleChanged,
			Changes: map[string]activity.Change{"identity_id": {Old: identityID, New: identityID}, "role": {Old: old, New: in.Role}},
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectMemberRoleChanged,
			pubsub.ProjectMemberRoleChanged{ProjectID: projectID, IdentityID: identityID, OldRole: old, NewRole: in.Role, ActorID: actorID})
		return err
	})
	if err != nil {
		return ProjectMember{}, fmt.Errorf("change role of %s in project %s: %w", identityID, projectID, err)
	}
	return m, nil
}

// Remove takes a member out of a project. Those who manage the project may remove members (a project admin
// not an owner), and every member may leave by themselves; the last owner cannot go (ErrLastProjectOwner).
func (s *ProjectMembers) Remove(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, projectID, identityID uuid.UUID) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockProject(ctx, tx, tenantID, projectID, actorID)
		if err != nil {
			return err
		}
		if l.deletedAt != nil {
			return db.ErrNotFound
		}
		m, err := loadProjectMember(ctx, tx, tenantID, projectID, identityID)
		if err != nil {
			return err
		}
		if identityID != actorID && !mayManageProjectMember(actorOrgRole, l.actorRole, m.Role, "") {
			return ErrProjectForbidden
		}
		if m.Role == ProjectRoleOwner {
			last, err := lastProjectOwner(ctx, tx, tenantID, projectID)
			if err != nil {
				return err
			}
			if last {
				return ErrLastProjectOwner
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3`,
			tenantID, projectID, identityID); err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: projectID, Action: ActionMemberRemoved,
			Changes: map[string]activity.Change{"identity_id": {Old: identityID}, "role": {Old: m.Role}},
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectMemberRemoved,
			pubsub.ProjectMemberRemoved{ProjectID: projectID, IdentityID: identityID, Role: m.Role, ActorID: actorID})
		return err
	})
	if err != nil {
		return fmt.Errorf("remove %s from project %s: %w", identityID, projectID, err)
	}
	return nil
}
