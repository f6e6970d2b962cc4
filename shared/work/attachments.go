package work

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/storage"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Attachment states: pending from the signed upload URL until the client reports the upload done and the
// object is found; complete from then on.
const (
	AttachmentPending  = "pending"
	AttachmentComplete = "complete"
)

// Attachment is a file attached to a task as the API shows it. Size is the declared size while pending and
// the stored object's size once complete.
type Attachment struct {
	ID          uuid.UUID  `json:"id"`
	TaskID      uuid.UUID  `json:"task_id"`
	Filename    string     `json:"filename"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	Status      string     `json:"status"`
	CreatedBy   uuid.UUID  `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CompletedAt *time.Time `json:"completed_at"`

	object string
}

// Upload is a new pending attachment with the signed request that uploads its content.
type Upload struct {
	Attachment
	UploadURL     string            `json:"upload_url"`
	UploadMethod  string            `json:"upload_method"`
	UploadHeaders map[string]string `json:"upload_headers"`
	ExpiresAt     time.Time         `json:"expires_at"`
}

// Download is a complete attachment with a short-lived signed URL that downloads it.
type Download struct {
	Attachment
	DownloadURL string    `json:"download_url"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// AttachmentInput is what a client declares before uploading.
type AttachmentInput struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// MaxFilenameLength is the longest filename in characters, matching the table's check constraint.
const MaxFilenameLength = 255

// Validate normalises the content type and reports every failing field. A filename is a name, not a path: no
// separators, no control characters, not "." or "..". Active content (storage.ActiveContent) fails whatever the
// plan; which other types are accepted depends on the plan (AttachmentConfig).
func (in *AttachmentInput) Validate() error {
	var errs valid.Errors
	switch n := utf8.RuneCountInString(in.Filename); {
	case strings.TrimSpace(in.Filename) == "":
		errs.Add("filename", "is required")
	case n > MaxFilenameLength:
		errs.Add("filename", fmt.Sprintf("must be at most %d characters", MaxFilenameLength))
	case !utf8.ValidString(in.Filename):
		errs.Add("filename", "must be UTF-8")
	case strings.ContainsAny(in.Filename, `/\`):
		errs.Add("filename", "must not contain path separators")
	case strings.IndexFunc(in.Filename, unicode.IsControl) >= 0:
		errs.Add("filename", "must not contain control characters")
	case !valid.DisplayText(in.Filename):
		// A right-to-left override turns "report\u202Efdp.exe" into what looks like "reportexe.pdf".
		errs.Add("filename", "must not contain line-separator or invisible formatting characters")
	case in.Filename == "." || in.Filename == "..":
		errs.Add("filename", "must name a file")
	}
	if ct, err := normalMediaType(in.ContentType); err != nil {
		errs.Add("content_type", "must be a media type such as application/pdf")
	} else if in.ContentType = ct; storage.ActiveContent(ct) {
		mt, _, _ := mime.ParseMediaType(ct)
		errs.Add("content_type", activeMessage(mt))
	}
	errs.Check(in.Size > 0, "size", "must be a positive number of bytes")
	return errs.Err()
}

// normalMediaType parses s as type/subtype with parameters and formats it canonically (lower-case type,
// parameters sorted), so the header a client must send with its upload is predictable.
func normalMediaType(s string) (string, error) {
	mt, params, err := mime.ParseMediaType(s)
	if err != nil {
		return "", err
	}
	major, minor, ok := strings.Cut(mt, "/")
	if !ok || major == "" || minor == "" || strings.Contains(minor, "/") {
		return "", errors.New("not type/subtype")
	}
	out := mime.FormatMediaType(mt, params)
	if out == "" || len(out) > 255 {
		return "", errors.New("not a media type")
	}
	return out, nil
}

// Limits on an attachment's size per plan of the organization (directory.tenants.plan). A plan the table
// lacks gets the free plan's limit.
var PlanAttachmentLimits = map[string]int64{
	"free":       10 << 20,
	"pro":        100 << 20,
	"enterprise": 1 << 30,
}

// AttachmentLimit returns the largest attachment plan allows, in bytes.
func AttachmentLimit(plan string) int64 {
	if n, ok := PlanAttachmentLimits[plan]; ok {
		return n
	}
	return PlanAttachmentLimits["free"]
}

// TooLargeError means a file is larger than the organization's plan allows.
type TooLargeError struct {
	Size, Limit int64
	Plan        string
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("a file of %d bytes exceeds the %s plan's limit of %d bytes", e.Size, e.Plan, e.Limit)
}

// Unwrap gives the refusal its kind and code, with the sizes in its detail, so the edge answers it as any
// other domain error.
func (e *TooLargeError) Unwrap() error {
	return fault.New(fault.TooLarge, "attachment_too_large",
		fmt.Sprintf("the file is %d bytes; the %s plan allows attachments of up to %d bytes", e.Size, e.Plan, e.Limit))
}

// Errors of the upload protocol.
var (
	// ErrUploadMissing means completion was asked for but no object has been uploaded.
	ErrUploadMissing = fault.New(fault.Conflict, "upload_missing", "nothing has been uploaded to the upload URL yet")
	// ErrUploadIncomplete means the attachment's upload has not been completed, so there is nothing to download.
	ErrUploadIncomplete = fault.New(fault.Conflict, "upload_incomplete", "the upload of this attachment has not been completed")
	// ErrAttachmentsUnavailable means the deployment has no object storage configured for attachments.
	ErrAttachmentsUnavailable = fault.New(fault.Unavailable, "storage_unavailable", "attachments are not configured on this deployment")
)

// ObjectStore is what attachments need of Cloud Storage; *storage.Bucket is the real one.
type ObjectStore interface {
	SignUpload(object, contentType string, maxSize int64) (storage.SignedRequest, error)
	SignDownload(object, filename, contentType string) (storage.SignedRequest, error)
	Attrs(ctx context.Context, object string) (storage.Attrs, error)
	Delete(ctx context.Context, object string) error
}

var _ ObjectStore = (*storage.Bucket)(nil)

// AttachmentObject names the object of attachment id of task taskID in tenantID. Every object of a tenant
// lies under tenants/<tenant id>/, and tenantID is always the caller's own, never a client's input; the
// table's check constraint holds the database to the same name.
func AttachmentObject(tenantID, taskID, id uuid.UUID) string {
	return "tenants/" + tenantID.String() + "/tasks/" + taskID.String() + "/" + id.String()
}

// Attachments is the store of task attachments: rows in the tenant store, content in Cloud Storage, the
// organization's plan (for the size limit and the accepted types) in the directory. Like comments,
// attachments are visible only while their task and its project are live.
type Attachments struct {
	directory *db.Directory
	tenants   *db.Tenants
	objects   ObjectStore
	types     attachmentTypes
}

// NewAttachments returns the attachment store over d's handles and objects, accepting the media types cfg
// names per plan (the zero AttachmentConfig: the defaults). cfg is validated already, as config.Load does.
func NewAttachments(d *db.DB, objects ObjectStore, cfg AttachmentConfig) *Attachments {
	return &Attachments{directory: d.Directory, tenants: d.Tenants, objects: objects, types: cfg.resolve()}
}

// plan reads tenantID's plan and its attachment limit from the directory; the plan also decides which media
// types are accepted (s.types).
func (s *Attachments) plan(ctx context.Context, tenantID uuid.UUID) (string, int64, error) {
	var plan string
	err := s.directory.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT plan FROM directory.tenants WHERE id = $1`, tenantID).Scan(&plan)
	})
	if err != nil {
		return "", 0, fmt.Errorf("load plan: %w", err)
	}
	return plan, AttachmentLimit(plan), nil
}

const attachmentColumns = `a.id, a.task_id, a.filename, a.content_type, a.size, a.status, a.created_by, a.created_at,
	a.updated_at, a.completed_at, a.object_name`

// liveAttachmentSQL reads a live attachment of the live task $3, with the task's project.
const liveAttachmentSQL = `SELECT ` + attachmentColumns + `, t.project_id FROM tenant.attachments a
	JOIN tenant.tasks t ON t.tenant_id = a.tenant_id AND t.id = a.task_id
	JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
	WHERE a.tenant_id = $1 AND a.id = $2 AND a.task_id = $3
	AND a.deleted_at IS NULL AND t.deleted_at IS NULL AND p.deleted_at IS NULL`

func scanAttachment(row pgx.Row, extra ...any) (Attachment, error) {
	var a Attachment
	err := row.Scan(append([]any{&a.ID, &a.TaskID, &a.Filename, &a.ContentType, &a.Size, &a.Status, &a.CreatedBy,
		&a.CreatedAt, &a.UpdatedAt, &a.CompletedAt, &a.object}, extra...)...)
	return a, err
}

// Create records a pending attachment of the live task taskID and signs the upload of its content, with its
// Content-Type bound by the signature. A declared size over the plan's limit is a *TooLargeError, and a media
// type the plan does not accept a content_type field error, before anything is written.
func (s *Attachments) Create(ctx context.Context, tenantID, actorID, taskID uuid.UUID, in AttachmentInput) (Upload, error) {
	if err := in.Validate(); err != nil {
		return Upload{}, err
	}
	plan, limit, err := s.plan(ctx, tenantID)
	if err != nil {
		return Upload{}, fmt.Errorf("create attachment: %w", err)
	}
	if in.Size > limit {
		return Upload{}, &TooLargeError{Size: in.Size, Limit: limit, Plan: plan}
	}
	if err := s.types.check(plan, in.ContentType); err != nil {
		return Upload{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Upload{}, fmt.Errorf("create attachment: %w", err)
	}
	object := AttachmentObject(tenantID, taskID, id)
	// Signing is local work (or one IAM call); a URL for a row that then fails to insert is never handed out.
	req, err := s.objects.SignUpload(object, in.ContentType, limit)
	if err != nil {
		return Upload{}, fmt.Errorf("create attachment: %w", err)
	}
	var a Attachment
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		if _, err := liveParentTask(ctx, tx, tenantID, taskID); err != nil {
			return err
		}
		a, err = scanAttachment(tx.QueryRow(ctx, `INSERT INTO tenant.attachments AS a
			(tenant_id, id, task_id, filename, content_type, size, object_name, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+attachmentColumns,
			tenantID, id, taskID, in.Filename, in.ContentType, in.Size, object, actorID))
		if err != nil {
			return err
		}
		// No event yet: attachment.added is raised when the upload completes (Complete), as consumers only
		// care about files that exist.
		return activity.RecordOnly(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "attachment", EntityID: id, Action: activity.Created,
			Changes: map[string]activity.Change{
				"task_id": {New: taskID}, "filename": {New: a.Filename}, "content_type": {New: a.ContentType},
				"size": {New: a.Size}, "status": {New: AttachmentPending},
			},
		})
	})
	if err != nil {
		return Upload{}, fmt.Errorf("create attachment on task %s: %w", taskID, err)
	}
	return Upload{Attachment: a, UploadURL: req.URL, UploadMethod: req.Method, UploadHeaders: req.Headers, ExpiresAt: req.Expires}, nil
}

// load reads a live attachment of a live task.
func (s *Attachments) load(ctx context.Context, tenantID, taskID, id uuid.UUID) (Attachment, error) {
	var a Attachment
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		var projectID uuid.UUID
		a, err = scanAttachment(tx.QueryRow(ctx, liveAttachmentSQL, tenantID, id, taskID), &projectID)
		return err
	})
	return a, err
}

// Complete finishes an upload: it checks that the object exists, records its actual size and content type,
// adds the size to the organization's storage usage, and raises attachment.added, all in one transaction. It
// is ErrUploadMissing when nothing was uploaded, a *TooLargeError (the object deleted) when the object is over
// the plan's limit, and a content_type field error (the object deleted) when it was stored with a type the plan
// does not accept. Completing a complete attachment returns it unchanged, so a retry is harmless.
func (s *Attachments) Complete(ctx context.Context, tenantID, actorID, taskID, id uuid.UUID) (Attachment, error) {
	a, err := s.load(ctx, tenantID, taskID, id)
	if err != nil {
		return Attachment{}, fmt.Errorf("complete attachment %s: %w", id, err)
	}
	if a.Status == AttachmentComplete {
		return a, nil
	}
	attrs, err := s.objects.Attrs(ctx, a.object)
	if errors.Is(err, storage.ErrNotExist) {
		return Attachment{}, ErrUploadMissing
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("complete attachment %s: %w", id, err)
	}
	plan, limit, err := s.plan(ctx, tenantID)
	if err != nil {
		return Attachment{}, fmt.Errorf("complete attachment %s: %w", id, err)
	}
	if attrs.Size > limit {
		// The signed length range should have stopped it; an object that got through anyway is not kept,
		// so it is never stored unpaid. The row stays pending for a retry with a smaller file.
		if err := s.objects.Delete(ctx, a.object); err != nil {
			return Attachment{}, fmt.Errorf("complete attachment %s: %w", id, err)
		}
		return Attachment{}, &TooLargeError{Size: attrs.Size, Limit: limit, Plan: plan}
	}
	contentType := a.ContentType
	if ct, err := normalMediaType(attrs.ContentType); err == nil {
		contentType = ct
	}
	// The signed Content-Type makes Cloud Storage store the declared type; an object stored otherwise (or a
	// plan changed since) is refused like an oversized one.
	if err := s.types.check(plan, contentType); err != nil {
		if err := s.objects.Delete(ctx, a.object); err != nil {
			return Attachment{}, fmt.Errorf("complete attachment %s: %w", id, err)
		}
		return Attachment{}, err
	}
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		var projectID uuid.UUID
		old, err := scanAttachment(tx.QueryRow(ctx, liveAttachmentSQL+` FOR UPDATE OF a`, tenantID, id, taskID), &projectID)
		if err != nil {
			return err
		}
		if old.Status == AttachmentComplete {
			// A concurrent completion won; its row is the answer.
			a = old
			return nil
		}
		a, err = scanAttachment(tx.QueryRow(ctx, `UPDATE tenant.attachments AS a SET status = 'complete', size = $3,
			content_type = $4, completed_at = now(), updated_at = now()
			WHERE a.tenant_id = $1 AND a.id = $2 RETURNING `+attachmentColumns, tenantID, id, attrs.Size, contentType))
		if err != nil {
			return err
		}
		if err := addUsage(ctx, tx, tenantID, MetricStorageBytes, a.Size); err != nil {
			return err
		}
		changes := map[string]activity.Change{"status": {Old: AttachmentPending, New: AttachmentComplete}}
		if old.Size != a.Size {
			changes["size"] = activity.Change{Old: old.Size, New: a.Size}
		}
		if old.ContentType != a.ContentType {
			changes["content_type"] = activity.Change{Old: old.ContentType, New: a.ContentType}
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "attachment", EntityID: id, Action: activity.Updated, Changes: changes,
		}, activity.Event{Type: pubsub.TypeAttachmentAdded, Payload: pubsub.AttachmentAdded{
			AttachmentID: id, TaskRef: pubsub.TaskRef{TaskID: taskID, ProjectID: projectID}, Filename: a.Filename, ContentType: a.ContentType,
			Size: a.Size, ActorID: actorID,
		}})
	})
	if err != nil {
		return Attachment{}, fmt.Errorf("complete attachment %s: %w", id, err)
	}
	return a, nil
}

// Get returns a complete attachment with a signed download URL, which makes browsers save the file and
// serves it as a safe type (storage.SignDownload); a pending one is ErrUploadIncomplete.
func (s *Attachments) Get(ctx context.Context, tenantID, taskID, id uuid.UUID) (Download, error) {
	a, err := s.load(ctx, tenantID, taskID, id)
	if err != nil {
		return Download{}, fmt.Errorf("load attachment %s: %w", id, err)
	}
	if a.Status != AttachmentComplete {
		return Download{}, ErrUploadIncomplete
	}
	req, err := s.objects.SignDownload(a.object, a.Filename, a.ContentType)
	if err != nil {
		return Download{}, fmt.Errorf("load attachment %s: %w", id, err)
	}
	return Download{Attachment: a, DownloadURL: req.URL, ExpiresAt: req.Expires}, nil
}

// List returns one page of the live task taskID's attachments, pending and complete, newest first.
func (s *Attachments) List(ctx context.Context, tenantID, taskID uuid.UUID, req page.Request) (page.Page[Attachment], error) {
	pg, err := pageOfTask(ctx, s.tenants, tenantID, taskID, req, taskPageQuery{
		first: `SELECT ` + attachmentColumns + ` FROM tenant.attachments a WHERE a.tenant_id = $1 AND a.task_id = $2
			AND a.deleted_at IS NULL ORDER BY a.id DESC LIMIT $3`,
		after: `SELECT ` + attachmentColumns + ` FROM tenant.attachments a WHERE a.tenant_id = $1 AND a.task_id = $2
			AND a.deleted_at IS NULL AND a.id < $4 ORDER BY a.id DESC LIMIT $3`,
	}, func(r pgx.CollectableRow) (Attachment, error) { return scanAttachment(r) }, func(a Attachment) uuid.UUID { return a.ID })
	if err != nil {
		return page.Page[Attachment]{}, fmt.Errorf("list attachments of task %s: %w", taskID, err)
	}
	return pg, nil
}

// Delete removes an attachment: the row is soft-deleted, a complete one's size is subtracted from the storage
// usage, and the object is deleted last, inside the transaction, so a failed object delete rolls everything
// back and a retry finds the attachment still there. Like comments, only its uploader or a moderator may.
func (s *Attachments) Delete(ctx context.Context, tenantID, actorID uuid.UUID, moderator bool, taskID, id uuid.UUID) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		var projectID uuid.UUID
		a, err := scanAttachment(tx.QueryRow(ctx, liveAttachmentSQL+` FOR UPDATE OF a`, tenantID, id, taskID), &projectID)
		if err != nil {
			return err
		}
		if a.CreatedBy != actorID && !moderator {
			return ErrNotAuthor
		}
		if _, err := tx.Exec(ctx, `UPDATE tenant.attachments SET deleted_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return err
		}
		var freed int64
		if a.Status == AttachmentComplete {
			freed = a.Size
			if err := addUsage(ctx, tx, tenantID, MetricStorageBytes, -freed); err != nil {
				return err
			}
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "attachment", EntityID: id, Action: activity.Deleted,
		}, activity.Event{Type: pubsub.TypeAttachmentDeleted, Payload: pubsub.AttachmentDeleted{
			AttachmentID: id, TaskRef: pubsub.TaskRef{TaskID: taskID, ProjectID: projectID}, Size: freed, ActorID: actorID,
		}}); err != nil {
			return err
		}
		return s.objects.Delete(ctx, a.object)
	})
	if err != nil {
		return fmt.Errorf("delete attachment %s: %w", id, err)
	}
	return nil
}
