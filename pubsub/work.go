package pubsub

import (
	"time"

	"github.com/google/uuid"
)

// CommentCreated is the payload of comment.created. It names the task and its project so that the notifier
// can tell the task's assignee and watchers without reading the comment back.
type CommentCreated struct {
	CommentID uuid.UUID `json:"comment_id"`
	TaskRef
	AuthorID  uuid.UUID `json:"author_id"`
	CreatedAt time.Time `json:"created_at"`
}

// CommentChange is what comment.updated and comment.deleted say: which comment an actor changed.
type CommentChange struct {
	CommentID uuid.UUID `json:"comment_id"`
	TaskRef
	ActorID uuid.UUID `json:"actor_id"`
}

// CommentUpdated is the payload of comment.updated: a comment's body was edited, by its author or an admin.
type CommentUpdated CommentChange

// CommentDeleted is the payload of comment.deleted (a soft delete).
type CommentDeleted CommentChange

// AttachmentAdded is the payload of attachment.added: an upload finished and its object was checked. Size is
// the object's actual size in bytes, as added to the tenant's storage usage.
type AttachmentAdded struct {
	AttachmentID uuid.UUID `json:"attachment_id"`
	TaskRef
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	ActorID     uuid.UUID `json:"actor_id"`
}

// AttachmentDeleted is the payload of attachment.deleted: the attachment and its object were removed. Size is
// what was subtracted from the tenant's storage usage (0 for an upload that never completed).
type AttachmentDeleted struct {
	AttachmentID uuid.UUID `json:"attachment_id"`
	TaskRef
	Size    int64     `json:"size"`
	ActorID uuid.UUID `json:"actor_id"`
}
