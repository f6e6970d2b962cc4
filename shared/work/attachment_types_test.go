package work_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/storage"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// contentTypeRefused fails t unless err is the content_type field error, alone.
func contentTypeRefused(t *testing.T, err error, what string) {
	t.Helper()
	var fe valid.Errors
	if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != "content_type" {
		t.Fatalf("%s: %v, want a content_type field error", what, err)
	}
}

// Each plan accepts its own list; active content no plan accepts; a plan the table lacks gets the free list.
func TestAttachmentContentTypesPerPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, _ := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	plans := map[string]liveTask{}
	for _, p := range []string{"free", "pro", "enterprise", "legacy-gold"} {
		plans[p] = newLiveTask(t, d, uuid.New(), p)
	}
	accepted := func(ps ...string) map[string]bool {
		m := map[string]bool{}
		for _, p := range ps {
			m[p] = true
		}
		return m
	}
	all := accepted("free", "pro", "enterprise", "legacy-gold")
	for _, tc := range []struct {
		contentType string
		on          map[string]bool
	}{
		{"image/png", all},
		{"IMAGE/JPEG", all},
		{"application/pdf", all},
		{"text/plain; charset=utf-8", all},
		{"text/csv", all},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", all},
		{"application/zip", all},
		{"audio/mpeg", accepted("pro", "enterprise")},
		{"video/mp4", accepted("pro", "enterprise")},
		{"application/json", accepted("pro", "enterprise")},
		{"video/x-matroska", accepted("enterprise")},
		{"application/octet-stream", accepted("enterprise")},
		{"application/x-msdownload", nil},
		{"text/html", nil},
		{"text/html; charset=utf-8", nil},
		{"Text/HTML", nil},
		{"image/svg+xml", nil},
		{"application/xhtml+xml", nil},
		{"text/xml", nil},
		{"application/rss+xml", nil},
		{"text/javascript", nil},
		{"application/javascript", nil},
		{"application/x-shockwave-flash", nil},
		{"message/rfc822", nil},
	} {
		for plan, lt := range plans {
			_, err := s.Create(ctx, lt.tenant, uuid.New(), lt.task, work.AttachmentInput{Filename: "f", ContentType: tc.contentType, Size: 1})
			if tc.on[plan] {
				if err != nil {
					t.Errorf("%s on the %s plan: %v, want it accepted", tc.contentType, plan, err)
				}
				continue
			}
			var fe valid.Errors
			if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != "content_type" {
				t.Errorf("%s on the %s plan: %v, want a content_type field error", tc.contentType, plan, err)
			}
		}
	}
	// Refusals wrote nothing: each plan holds exactly the attachments it accepted.
	for plan, lt := range plans {
		want := 0
		switch plan {
		case "free", "legacy-gold":
			want = 7
		case "pro":
			want = 10
		case "enterprise":
			want = 12
		}
		l, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 100})
		if err != nil || len(l.Items) != want {
			t.Errorf("the %s plan stored %d attachments (%v), want %d", plan, len(l.Items), err, want)
		}
	}
	// The refusal says why: active content is never accepted; others name the plan.
	_, err := s.Create(ctx, plans["pro"].tenant, uuid.New(), plans["pro"].task, work.AttachmentInput{Filename: "x.html", ContentType: "text/html", Size: 1})
	if fe := (valid.Errors{}); !errors.As(err, &fe) || !strings.Contains(fe[0].Message, "never accepted") {
		t.Fatalf("html refusal: %v", err)
	}
	_, err = s.Create(ctx, plans["free"].tenant, uuid.New(), plans["free"].task, work.AttachmentInput{Filename: "a.mp3", ContentType: "audio/mpeg", Size: 1})
	if fe := (valid.Errors{}); !errors.As(err, &fe) || !strings.Contains(fe[0].Message, "free plan") || !strings.Contains(fe[0].Message, "image/png") {
		t.Fatalf("audio on free: %v", err)
	}
}

// A configured list replaces a plan's default; active types stay refused even behind a wildcard.
func TestAttachmentContentTypesConfigured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	cfg := work.AttachmentConfig{TypesFree: []string{"application/pdf", " Text/* "}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := work.NewAttachments(d.DB, bucket, cfg)
	free, pro := newLiveTask(t, d, uuid.New(), "free"), newLiveTask(t, d, uuid.New(), "pro")
	for ct, ok := range map[string]bool{"application/pdf": true, "text/plain": true, "text/x-go": true, "image/png": false, "text/html": false, "text/xml": false} {
		_, err := s.Create(ctx, free.tenant, uuid.New(), free.task, work.AttachmentInput{Filename: "f", ContentType: ct, Size: 1})
		if ok && err != nil {
			t.Errorf("%s on the configured free plan: %v", ct, err)
		}
		if !ok {
			contentTypeRefused(t, err, ct+" on the configured free plan")
		}
	}
	if _, err := s.Create(ctx, pro.tenant, uuid.New(), pro.task, work.AttachmentInput{Filename: "f.png", ContentType: "image/png", Size: 1}); err != nil {
		t.Fatalf("the pro plan keeps its default: %v", err)
	}
	// An object stored as HTML is refused at completion, though text/* covers it.
	up, err := s.Create(ctx, free.tenant, uuid.New(), free.task, work.AttachmentInput{Filename: "a.txt", ContentType: "text/plain", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	fake.Put(work.AttachmentObject(free.tenant, free.task, up.ID), "text/html", []byte("<script>"))
	_, err = s.Complete(ctx, free.tenant, uuid.New(), free.task, up.ID)
	contentTypeRefused(t, err, "completing an object stored as HTML under text/*")
}

func TestAttachmentConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  work.AttachmentConfig
		want []string // "" entries: valid
	}{
		{work.AttachmentConfig{}, nil},
		{work.AttachmentConfig{TypesFree: []string{"image/png", "IMAGE/JPEG", "video/*"}, TypesEnterprise: []string{"application/octet-stream"}}, nil},
		{work.AttachmentConfig{TypesFree: []string{"text/html"}}, []string{"ATTACHMENT_TYPES_FREE", "text/html", "active content"}},
		{work.AttachmentConfig{TypesPro: []string{"image/svg+xml"}}, []string{"ATTACHMENT_TYPES_PRO", "active content"}},
		{work.AttachmentConfig{TypesEnterprise: []string{"application/javascript"}}, []string{"ATTACHMENT_TYPES_ENTERPRISE", "active content"}},
		{work.AttachmentConfig{TypesFree: []string{"*/*"}}, []string{"not type/subtype"}},
		{work.AttachmentConfig{TypesFree: []string{"png"}}, []string{"not type/subtype"}},
		{work.AttachmentConfig{TypesFree: []string{"text/plain; charset=utf-8"}}, []string{"without parameters"}},
		{work.AttachmentConfig{TypesFree: []string{"text/html"}, TypesPro: []string{"bad"}}, []string{"ATTACHMENT_TYPES_FREE", "ATTACHMENT_TYPES_PRO"}},
	} {
		err := tc.cfg.Validate()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", tc.cfg, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%+v) = %v, want it to mention %q", tc.cfg, err, w)
			}
		}
	}
}

// Downloads are attachments of a safe type: the stored type when it is on storage's safe list, else
// application/octet-stream, also for a row stored as HTML before such types were refused.
func TestAttachmentDownloadsAreSafe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	ent := newLiveTask(t, d, uuid.New(), "enterprise")
	actor := uuid.New()
	for _, tc := range []struct {
		filename, declared, stored, legacy, served string
	}{
		{"photo.png", "image/png", "image/png", "", "image/png"},
		{"clip.mkv", "video/x-matroska", "video/x-matroska", "", storage.OpaqueContentType},
		{"blob.bin", "application/octet-stream", "application/octet-stream", "", storage.OpaqueContentType},
		// An attachment stored as HTML before this rule: the row and the object say text/html.
		{"page.html", "text/plain", "text/html", "text/html", storage.OpaqueContentType},
	} {
		up, err := s.Create(ctx, ent.tenant, actor, ent.task, work.AttachmentInput{Filename: tc.filename, ContentType: tc.declared, Size: 5})
		if err != nil {
			t.Fatal(err)
		}
		if tc.legacy == "" {
			upload(t, up.UploadMethod, up.UploadURL, up.UploadHeaders, "<b>1")
			if _, err := s.Complete(ctx, ent.tenant, actor, ent.task, up.ID); err != nil {
				t.Fatalf("complete %s: %v", tc.filename, err)
			}
		} else {
			fake.Put(work.AttachmentObject(ent.tenant, ent.task, up.ID), tc.stored, []byte("<b>1"))
			if _, err := d.Owner.Exec(ctx, `UPDATE tenant.attachments SET status = 'complete', content_type = $3, completed_at = now()
				WHERE tenant_id = $1 AND id = $2`, ent.tenant, up.ID, tc.legacy); err != nil {
				t.Fatal(err)
			}
		}
		dl, err := s.Get(ctx, ent.tenant, ent.task, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(dl.DownloadURL)
		q := u.Query()
		if !strings.HasPrefix(q.Get("response-content-disposition"), "attachment; ") || !strings.Contains(q.Get("response-content-disposition"), "filename*=UTF-8''"+tc.filename) ||
			q.Get("response-content-type") != tc.served {
			t.Errorf("%s: download URL carries disposition %q and type %q, want an attachment served as %s",
				tc.filename, q.Get("response-content-disposition"), q.Get("response-content-type"), tc.served)
		}
		// fake-gcs-server applies the response-* parameters as Cloud Storage does.
		if _, h := fetchWith(t, dl.DownloadURL); !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") || h.Get("Content-Type") != tc.served {
			t.Errorf("%s downloads with Content-Disposition %q and Content-Type %q", tc.filename, h.Get("Content-Disposition"), h.Get("Content-Type"))
		}
	}
}

// An object stored with a type the plan does not accept (the signed Content-Type should have stopped it) is
// deleted at completion and the attachment stays pending.
func TestAttachmentCompleteRefusesStoredType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	bucket, fake := newBucket(t)
	s := work.NewAttachments(d.DB, bucket, work.AttachmentConfig{})
	lt := newLiveTask(t, d, uuid.New(), "free")
	actor := uuid.New()
	up, err := s.Create(ctx, lt.tenant, actor, lt.task, work.AttachmentInput{Filename: "cat.png", ContentType: "image/png", Size: 20})
	if err != nil {
		t.Fatal(err)
	}
	object := work.AttachmentObject(lt.tenant, lt.task, up.ID)
	fake.Put(object, "text/html", []byte("<script>alert(1)</script>"))
	_, err = s.Complete(ctx, lt.tenant, actor, lt.task, up.ID)
	contentTypeRefused(t, err, "completing an object stored as HTML")
	if _, err := fake.Object(object); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("the HTML object was kept: %v", err)
	}
	if _, err := s.Get(ctx, lt.tenant, lt.task, up.ID); !errors.Is(err, work.ErrUploadIncomplete) {
		t.Fatalf("the attachment after the refusal: %v, want it pending", err)
	}
	if n, _ := work.NewUsage(d.DB).StorageBytes(ctx, lt.tenant); n != 0 {
		t.Fatalf("storage bytes = %d after a refused upload, want 0", n)
	}
	// Uploaded again with the declared type, it completes.
	upload(t, up.UploadMethod, up.UploadURL, up.UploadHeaders, "png-bytes")
	if a, err := s.Complete(ctx, lt.tenant, actor, lt.task, up.ID); err != nil || a.ContentType != "image/png" {
		t.Fatalf("completing the proper upload: %+v, %v", a, err)
	}
}

// Validate alone, before any plan is read, refuses active content beside the other failing fields.
func TestAttachmentInputRefusesActiveContent(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"text/html", "image/svg+xml", "application/javascript"} {
		in := work.AttachmentInput{Filename: "", ContentType: ct, Size: 1}
		if got := valid.Fields(in.Validate()); strings.Join(got, ",") != "filename,content_type" {
			t.Errorf("Validate with %s: failing fields %v, want filename and content_type", ct, got)
		}
	}
}
