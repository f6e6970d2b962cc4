package work

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrNotAuthor means the actor may not change a comment or attachment: only the person who made it, or a
// moderator (an organization admin or owner), may edit or delete it.
var ErrNotAuthor = fault.New(fault.Forbidden, "not_author", "only its author or an admin may change this comment or attachment")

// Comment is a comment on a task as the API shows it.
type Comment struct {
	ID        uuid.UUID `json:"id"`
	TaskID    uuid.UUID `json:"task_id"`
	AuthorID  uuid.UUID `json:"author_id"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CommentInput is what a client sends to create or edit a comment.
type CommentInput struct {
	Body string `json:"body"`
}

// MaxCommentLength is the longest comment body in characters, matching the table's check constraint.
const MaxCommentLength = 10000

// Validate trims the body and reports what is wrong with it.
func (in *CommentInput) Validate() error {
	in.Body = strings.TrimSpace(in.Body)
	var errs valid.Errors
	errs.Check(in.Body != "", "body", "is required")
	errs.Check(utf8.RuneCountInString(in.Body) <= MaxCommentLength, "body", fmt.Sprintf("must be at most %d characters", MaxCommentLength))
	errs.Check(!strings.ContainsRune(in.Body, 0), "body", "must not contain NUL characters")
	return errs.Err()
}

// Comments is the store of comments on tasks. A comment is visible only while it, its task and the task's
// project are all live, so deleting a task or project hides its comments and restoring it shows them again.
type Comments struct {
	tenants *db.Tenants
}

// NewComments returns the comment store over d's tenant handle.
func NewComments(d *db.DB) *Comments {
	return &Comments{tenants: d.Tenants}
}

const commentColumns = `c.id, c.task_id, c.author_id, c.body, c.created_at, c.updated_at`

// liveCommentSQL reads a live comment of a live task and project, with the project's id.
const liveCommentSQL = `SELECT ` + commentColumns + `, t.project_id FROM tenant.comments c
	JOIN tenant.tasks t ON t.tenant_id = c.tenant_id AND t.id = c.task_id
	JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
	WHERE c.tenant_id = $1 AND c.id = $2 AND c.deleted_at IS NULL AND t.deleted_at IS NULL AND p.deleted_at IS NULL`

func scanComment(row pgx.Row, extra ...any) (Comment, error) {
	var c Comment
	err := row.Scan(append([]any{&c.ID, &c.TaskID, &c.AuthorID, &c.Body, &c.CreatedAt, &c.UpdatedAt}, extra...)...)
	return c, err
}

// Create adds a comment by actorID to the live task taskID.
func (s *Comments) Create(ctx context.Context, tenantID, actorID, taskID uuid.UUID, in CommentInput) (Comment, error) {
	if err := in.Validate(); err != nil {
		return Comment{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Comment{}, fmt.Errorf("create comment: %w", err)
	}
	var c Comment
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		projectID, err := liveParentTask(ctx, tx, tenantID, taskID)
		if err != nil {
			return err
		}
		c, err = scanComment(tx.QueryRow(ctx, `INSERT INTO tenant.comments AS c (tenant_id, id, task_id, author_id, body)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+commentColumns, tenantID, id, taskID, actorID, in.Body))
		if err != nil {
			return err
		}
		// Full-text search rows of the body (search.go).
		if err := writeSearchTerms(ctx, tx, nil, tenantID, searchKindComment, id, searchText{}, searchText{body: c.Body}); err != nil {
			return err
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "comment", EntityID: id, Action: activity.Created,
			Changes: map[string]activity.Change{"task_id": {New: taskID}, "body": {New: c.Body}},
		}, activity.Event{Type: pubsub.TypeCommentCreated, Payload: pubsub.CommentCreated{
			CommentID: id, TaskRef: pubsub.TaskRef{TaskID: taskID, ProjectID: projectID}, AuthorID: actorID, CreatedAt: c.CreatedAt,
		}})
	})
	if err != nil {
		return Comment{}, fmt.Errorf("create comment on task %s: %w", taskID, err)
	}
	return c, nil
}

// List returns one page of the live task taskID's comments, oldest first, as a conversation reads. Comments
// added while a client pages through sort after every page it has seen, so each comment appears exactly once.
func (s *Comments) List(ctx context.Context, tenantID, taskID uuid.UUID, req page.Request) (page.Page[Comment], error) {
	pg, err := pageOfTask(ctx, s.tenants, tenantID, taskID, req, taskPageQuery{
		first: `SELECT ` + commentColumns + ` FROM tenant.comments c WHERE c.tenant_id = $1 AND c.task_id = $2
			AND c.deleted_at IS NULL ORDER BY c.id LIMIT $3`,
		after: `SELECT ` + commentColumns + ` FROM tenant.comments c WHERE c.tenant_id = $1 AND c.task_id = $2
			AND c.deleted_at IS NULL AND c.id > $4 ORDER BY c.id LIMIT $3`,
	}, func(r pgx.CollectableRow) (Comment, error) { return scanComment(r) }, func(c Comment) uuid.UUID { return c.ID })
	if err != nil {
		return page.Page[Comment]{}, fmt.Errorf("list comments of task %s: %w", taskID, err)
	}
	return pg, nil
}

// lockOwnComment locks the live comment id for a change by actorID, with its task's project: ErrNotAuthor
// unless actorID wrote it or is a moderator.
func lockOwnComment(ctx context.Context, tx pgx.Tx, tenantID, actorID uuid.UUID, moderator bool, id uuid.UUID) (Comment, uuid.UUID, error) {
	var projectID uuid.UUID
	c, err := scanComment(tx.QueryRow(ctx, liveCommentSQL+` FOR UPDATE OF c`, tenantID, id), &projectID)
	if err != nil {
		return Comment{}, uuid.Nil, err
	}
	if c.AuthorID != actorID && !moderator {
		return Comment{}, uuid.Nil, ErrNotAuthor
	}
	return c, projectID, nil
}

// Update replaces a comment's body. actorID must be its author unless moderator is set (an organization admin
// or owner); otherwise it is ErrNotAuthor. A write that changes nothing records nothing.
func (s *Comments) Update(ctx context.Context, tenantID, actorID uuid.UUID, moderator bool, id uuid.UUID, in CommentInput) (Comment, error) {
	if err := in.Validate(); err != nil {
		return Comment{}, err
	}
	var c Comment
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		old, projectID, err := lockOwnComment(ctx, tx, tenantID, actorID, moderator, id)
		if err != nil {
			return err
		}
		if old.Body == in.Body {
			c = old
			return nil
		}
		c, err = scanComment(tx.QueryRow(ctx, `UPDATE tenant.comments AS c SET body = $3, updated_at = now()
			WHERE c.tenant_id = $1 AND c.id = $2 RETURNING `+commentColumns, tenantID, id, in.Body))
		if err != nil {
			return err
		}
		// Full-text search rows of the new body (search.go).
		if err := writeSearchTerms(ctx, tx, nil, tenantID, searchKindComment, id, searchText{body: old.Body}, searchText{body: c.Body}); err != nil {
			return err
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "comment", EntityID: id, Action: activity.Updated,
			Changes: map[string]activity.Change{"body": {Old: old.Body, New: c.Body}},
		}, activity.Event{Type: pubsub.TypeCommentUpdated, Payload: pubsub.CommentUpdated{
			CommentID: id, TaskRef: pubsub.TaskRef{TaskID: c.TaskID, ProjectID: projectID}, ActorID: actorID,
		}})
	})
	if err != nil {
		return Comment{}, fmt.Errorf("update comment %s: %w", id, err)
	}
	return c, nil
}

// Delete soft-deletes a comment, under the same rule as Update.
func (s *Comments) Delete(ctx context.Context, tenantID, actorID uuid.UUID, moderator bool, id uuid.UUID) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		old, projectID, err := lockOwnComment(ctx, tx, tenantID, actorID, moderator, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tenant.comments SET deleted_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return err
		}
		// Out of the search index (search.go): comments are not restored.
		if err := writeSearchTerms(ctx, tx, nil, tenantID, searchKindComment, id, searchText{body: old.Body}, searchText{}); err != nil {
			return err
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "comment", EntityID: id, Action: activity.Deleted,
		}, activity.Event{Type: pubsub.TypeCommentDeleted, Payload: pubsub.CommentDeleted{
			CommentID: id, TaskRef: pubsub.TaskRef{TaskID: old.TaskID, ProjectID: projectID}, ActorID: actorID,
		}})
	})
	if err != nil {
		return fmt.Errorf("delete comment %s: %w", id, err)
	}
	return nil
}
