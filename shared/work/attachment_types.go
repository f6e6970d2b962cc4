package work

import (
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/coditect/hyperscale/shared/storage"
	"github.com/coditect/hyperscale/shared/valid"
)

// Plans whose attachment types can be configured; any other plan accepts what the free plan accepts, as with
// the size limits.
const (
	PlanFree       = "free"
	PlanPro        = "pro"
	PlanEnterprise = "enterprise"
)

// freeAttachmentTypes are what the free plan accepts unless configured otherwise: pictures, PDF, plain text and
// CSV, office documents and zip archives.
var freeAttachmentTypes = []string{
	"image/png", "image/jpeg", "image/gif", "image/webp",
	"application/pdf", "text/plain", "text/csv", "application/rtf",
	"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
	"application/vnd.oasis.opendocument.presentation",
	"application/zip",
}

// proAttachmentTypes add more pictures, Markdown and JSON, other archives, and common audio and video.
var proAttachmentTypes = append(slices.Clone(freeAttachmentTypes),
	"image/avif", "image/bmp", "image/tiff", "image/heic", "image/heif",
	"text/markdown", "text/tab-separated-values", "application/json",
	"application/gzip", "application/x-tar", "application/x-7z-compressed", "application/vnd.rar",
	"audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav", "audio/webm", "audio/aac", "audio/flac",
	"video/mp4", "video/webm", "video/ogg", "video/quicktime", "video/mpeg",
)

// enterpriseAttachmentTypes add any audio, video and font, and opaque binaries: what a company stores is its
// own business, and none of these runs in a browser (downloads of types off storage's safe list are served as
// application/octet-stream anyway).
var enterpriseAttachmentTypes = append(slices.Clone(proAttachmentTypes),
	"audio/*", "video/*", "font/*", "application/octet-stream",
)

// DefaultAttachmentTypes returns the media types each plan accepts when AttachmentConfig names none: a
// fresh copy the caller may change.
func DefaultAttachmentTypes() map[string][]string {
	return map[string][]string{
		PlanFree:       slices.Clone(freeAttachmentTypes),
		PlanPro:        slices.Clone(proAttachmentTypes),
		PlanEnterprise: slices.Clone(enterpriseAttachmentTypes),
	}
}

// AttachmentConfig is the attachments part of a function's configuration: the media types each plan accepts,
// as comma-separated lists of type/subtype or type/* (without parameters). An empty list means the plan's
// default (DefaultAttachmentTypes). Active content (storage.ActiveContent: HTML, SVG, XML, scripts) is refused
// on every plan, listed or not, and listing it is a configuration error.
type AttachmentConfig struct {
	// TypesFree are the media types the free plan, and any plan not named here, accepts.
	TypesFree []string `env:"ATTACHMENT_TYPES_FREE"`
	// TypesPro are the media types the pro plan accepts.
	TypesPro []string `env:"ATTACHMENT_TYPES_PRO"`
	// TypesEnterprise are the media types the enterprise plan accepts.
	TypesEnterprise []string `env:"ATTACHMENT_TYPES_ENTERPRISE"`
}

// Validate reports every entry that is not a media type or a type/* pattern, and every active type listed.
func (c AttachmentConfig) Validate() error {
	var errs []error
	for _, l := range []struct {
		name  string
		types []string
	}{{"ATTACHMENT_TYPES_FREE", c.TypesFree}, {"ATTACHMENT_TYPES_PRO", c.TypesPro}, {"ATTACHMENT_TYPES_ENTERPRISE", c.TypesEnterprise}} {
		for _, t := range l.types {
			if err := checkTypePattern(t); err != nil {
				errs = append(errs, fmt.Errorf("%s: %q %w", l.name, t, err))
			}
		}
	}
	return errors.Join(errs...)
}

func checkTypePattern(t string) error {
	t = strings.TrimSpace(t)
	major, minor, ok := strings.Cut(t, "/")
	switch {
	case !ok || major == "" || minor == "" || major == "*" || strings.Contains(minor, "/"):
		return errors.New("is not type/subtype or type/*")
	case minor == "*":
		if _, _, err := mime.ParseMediaType(major + "/x"); err != nil {
			return errors.New("is not type/*")
		}
		return nil
	}
	mt, params, err := mime.ParseMediaType(t)
	switch {
	case err != nil || len(params) > 0 || mt != strings.ToLower(t):
		return errors.New("is not a media type without parameters")
	case storage.ActiveContent(mt):
		return errors.New("is active content (HTML, SVG, XML, scripts), which no plan may accept")
	}
	return nil
}

// attachmentTypes is a configuration resolved per plan.
type attachmentTypes map[string][]string

// resolve returns the plan lists of c, the defaults standing in for empty ones, lower-cased.
func (c AttachmentConfig) resolve() attachmentTypes {
	out := DefaultAttachmentTypes()
	for plan, l := range map[string][]string{PlanFree: c.TypesFree, PlanPro: c.TypesPro, PlanEnterprise: c.TypesEnterprise} {
		if len(l) == 0 {
			continue
		}
		out[plan] = nil
		for _, t := range l {
			out[plan] = append(out[plan], strings.ToLower(strings.TrimSpace(t)))
		}
	}
	return out
}

// of returns plan's list, the free plan's for a plan not configured.
func (a attachmentTypes) of(plan string) []string {
	if l, ok := a[plan]; ok {
		return l
	}
	return a[PlanFree]
}

// check returns nil when plan accepts contentType (a type Validate normalised), and otherwise the
// content_type field error that says why.
func (a attachmentTypes) check(plan, contentType string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return valid.Errors{{Field: "content_type", Message: "must be a media type such as application/pdf"}}
	}
	if storage.ActiveContent(mt) {
		return valid.Errors{{Field: "content_type", Message: activeMessage(mt)}}
	}
	major, _, _ := strings.Cut(mt, "/")
	accepted := a.of(plan)
	for _, t := range accepted {
		if t == mt || t == major+"/*" {
			return nil
		}
	}
	if _, ok := a[plan]; !ok {
		plan = PlanFree
	}
	return valid.Errors{{Field: "content_type", Message: fmt.Sprintf("%s is not accepted on the %s plan; accepted: %s",
		mt, plan, strings.Join(accepted, ", "))}}
}

func activeMessage(mt string) string {
	return mt + " is active content a browser would run (HTML, SVG, XML, scripts), which is never accepted"
}
