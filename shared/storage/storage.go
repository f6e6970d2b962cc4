// Package storage is the platform's door to Cloud Storage: V4 signed URLs that let a browser upload or
// download one object directly, and the object attributes and deletion the server needs around them. Object
// names are chosen by the caller; the tenant data library's rule that every name starts with the tenant's
// prefix is kept by the domain code (shared/work) and by a check constraint on the table that records them.
//
// Signing needs an identity. With STORAGE_SIGNER_KEY set, URLs are signed locally with that service-account
// key. Without it, on Google Cloud, the client library finds the service account of the metadata server and
// signs through the IAM Credentials signBlob API (the account needs roles/iam.serviceAccountTokenCreator on
// itself). Against an emulator (STORAGE_EMULATOR_HOST) with no key, an ephemeral RSA key is generated at
// start-up: the fake server does not verify signatures, and no real key has to exist on a laptop.
package storage

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/option"
)

// Config is the Cloud Storage part of a function's configuration.
type Config struct {
	// Bucket holds every tenant's attachments, under tenants/<tenant id>/.
	Bucket string `env:"ATTACHMENTS_BUCKET"`
	// SignerEmail is the service account URLs are signed as (the V4 credential's GoogleAccessID). Empty means
	// the account of the metadata server, or, with an emulator, a made-up local one.
	SignerEmail string `env:"STORAGE_SIGNER_EMAIL"`
	// SignerKey is SignerEmail's private key in PEM (a Secret Manager reference in deployments). Empty means
	// signing through the IAM Credentials API, or, with an emulator, an ephemeral key.
	SignerKey string `env:"STORAGE_SIGNER_KEY"`
	// EmulatorHost points the client at a fake server ("127.0.0.1:4443" or "http://127.0.0.1:4443"); the
	// client library reads the same variable.
	EmulatorHost string `env:"STORAGE_EMULATOR_HOST"`
	// UploadTTL is how long a signed upload URL stays usable.
	UploadTTL time.Duration `env:"STORAGE_UPLOAD_URL_TTL, default=15m"`
	// DownloadTTL is how long a signed download URL stays usable: short, because anyone holding it can read.
	DownloadTTL time.Duration `env:"STORAGE_DOWNLOAD_URL_TTL, default=5m"`
}

// Expiries of signed URLs: the defaults of Config, and the longest V4 signing allows.
const (
	DefaultUploadTTL   = 15 * time.Minute
	DefaultDownloadTTL = 5 * time.Minute
	MaxURLTTL          = 7 * 24 * time.Hour
)

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("ATTACHMENTS_BUCKET is required"))
	} else if !bucketName.MatchString(c.Bucket) {
		errs = append(errs, fmt.Errorf("ATTACHMENTS_BUCKET %q is not a bucket name", c.Bucket))
	}
	if c.SignerKey != "" {
		if _, err := parseKey([]byte(c.SignerKey)); err != nil {
			errs = append(errs, fmt.Errorf("STORAGE_SIGNER_KEY: %w", err))
		}
		if c.SignerEmail == "" {
			errs = append(errs, errors.New("STORAGE_SIGNER_EMAIL is required with STORAGE_SIGNER_KEY"))
		}
	}
	if c.UploadTTL <= 0 || c.UploadTTL > MaxURLTTL {
		errs = append(errs, fmt.Errorf("STORAGE_UPLOAD_URL_TTL %s is outside (0s, %s]", c.UploadTTL, MaxURLTTL))
	}
	if c.DownloadTTL <= 0 || c.DownloadTTL > MaxURLTTL {
		errs = append(errs, fmt.Errorf("STORAGE_DOWNLOAD_URL_TTL %s is outside (0s, %s]", c.DownloadTTL, MaxURLTTL))
	}
	return errors.Join(errs...)
}

// ErrNotExist means the object does not exist.
var ErrNotExist = errors.New("object does not exist")

// Attrs are what the server learns about an uploaded object.
type Attrs struct {
	Size        int64
	ContentType string
}

// SignedRequest is a request a client may make without credentials until Expires: the method, the URL and the
// headers it must send exactly as given, since they are part of the signature.
type SignedRequest struct {
	Method  string
	URL     string
	Headers map[string]string
	Expires time.Time
}

// Bucket signs URLs for, inspects and deletes the objects of one bucket.
type Bucket struct {
	client      *gcs.Client
	bucket      *gcs.BucketHandle
	sign        gcs.SignedURLOptions
	uploadTTL   time.Duration
	downloadTTL time.Duration
	now         func() time.Time
}

// devSigner is the made-up account emulator URLs are signed as when no signer is configured.
const devSigner = "dev-signer@hyperscale.local"

// Open builds the bucket handle of cfg. Against an emulator the client needs no credentials; elsewhere it uses
// Application Default Credentials. It does no network I/O.
func Open(ctx context.Context, cfg Config) (*Bucket, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open bucket: %w", err)
	}
	sign := gcs.SignedURLOptions{Scheme: gcs.SigningSchemeV4, GoogleAccessID: cfg.SignerEmail}
	var opts []option.ClientOption
	if cfg.EmulatorHost != "" {
		u, err := emulatorURL(cfg.EmulatorHost)
		if err != nil {
			return nil, fmt.Errorf("open bucket: STORAGE_EMULATOR_HOST: %w", err)
		}
		// Named explicitly rather than left to the library's reading of the variable, so tests can run
		// several fakes in one process.
		opts = append(opts, option.WithEndpoint(u.String()+"/storage/v1/"), option.WithoutAuthentication())
		sign.Hostname, sign.Insecure = u.Host, u.Scheme == "http"
		if cfg.SignerKey == "" {
			key, err := ephemeralKey()
			if err != nil {
				return nil, fmt.Errorf("open bucket: %w", err)
			}
			sign.PrivateKey = key
			if sign.GoogleAccessID == "" {
				sign.GoogleAccessID = devSigner
			}
		}
	}
	if cfg.SignerKey != "" {
		sign.PrivateKey = []byte(cfg.SignerKey)
	}
	client, err := gcs.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open bucket: %w", err)
	}
	return &Bucket{client: client, bucket: client.Bucket(cfg.Bucket), sign: sign,
		uploadTTL: cfg.UploadTTL, downloadTTL: cfg.DownloadTTL, now: time.Now}, nil
}

func emulatorURL(host string) (*url.URL, error) {
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%q is not host:port or an http(s) URL", host)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

func ephemeralKey() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseKey(pemText []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS #1 or PKCS #8 private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key (Cloud Storage signs with RSA)")
	}
	return rk, nil
}

// Close releases the client.
func (b *Bucket) Close() error { return b.client.Close() }

// Bucket returns the bucket's name.
func (b *Bucket) Bucket() string { return b.bucket.BucketName() }

// SignUpload returns a signed PUT of object with contentType, whose body Cloud Storage refuses when it is
// larger than maxSize bytes (the x-goog-content-length-range header is signed, so the client cannot drop it).
// The Content-Type header is signed too, so the object is stored with the type that was accepted.
// The server still checks the stored object's size when the upload is completed.
func (b *Bucket) SignUpload(object, contentType string, maxSize int64) (SignedRequest, error) {
	expires := b.now().Add(b.uploadTTL).Truncate(time.Second)
	lengthRange := fmt.Sprintf("0,%d", maxSize)
	opts := b.sign
	opts.Method = http.MethodPut
	opts.Expires = expires
	opts.ContentType = contentType
	opts.Headers = []string{"x-goog-content-length-range:" + lengthRange}
	u, err := b.bucket.SignedURL(object, &opts)
	if err != nil {
		return SignedRequest{}, fmt.Errorf("sign upload of %s: %w", object, err)
	}
	return SignedRequest{Method: http.MethodPut, URL: u, Expires: expires,
		Headers: map[string]string{"Content-Type": contentType, "X-Goog-Content-Length-Range": lengthRange}}, nil
}

// SignDownload returns a signed GET of object, stored as contentType, that makes browsers save it as filename
// rather than display it, and that serves it as SafeContentType(contentType) whatever the object's metadata
// says: both are response-* parameters of the signed URL, which Cloud Storage applies to the response, so no
// stored file can run as a page of the bucket's origin.
func (b *Bucket) SignDownload(object, filename, contentType string) (SignedRequest, error) {
	expires := b.now().Add(b.downloadTTL).Truncate(time.Second)
	opts := b.sign
	opts.Method = http.MethodGet
	opts.Expires = expires
	opts.QueryParameters = url.Values{
		"response-content-disposition": {ContentDisposition(filename)},
		"response-content-type":        {SafeContentType(contentType)},
	}
	u, err := b.bucket.SignedURL(object, &opts)
	if err != nil {
		return SignedRequest{}, fmt.Errorf("sign download of %s: %w", object, err)
	}
	return SignedRequest{Method: http.MethodGet, URL: u, Expires: expires}, nil
}

// ContentDisposition is the "attachment" disposition naming filename: the exact name in RFC 5987 form
// (filename*), which every current browser reads, preceded by a quoted ASCII fallback for old clients, as
// RFC 6266 advises.
func ContentDisposition(filename string) string {
	if filename == "" {
		return "attachment"
	}
	fallback := strings.Map(func(r rune) rune {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' {
			return r
		}
		return '_'
	}, filename)
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + extValue(filename)
}

// extValue percent-encodes s as an RFC 5987 ext-value: every byte outside attr-char is escaped.
func extValue(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attrChar, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Attrs returns the stored object's size and content type, or ErrNotExist.
func (b *Bucket) Attrs(ctx context.Context, object string) (Attrs, error) {
	a, err := b.bucket.Object(object).Attrs(ctx)
	if errors.Is(err, gcs.ErrObjectNotExist) {
		return Attrs{}, fmt.Errorf("object %s: %w", object, ErrNotExist)
	}
	if err != nil {
		return Attrs{}, fmt.Errorf("object %s: %w", object, err)
	}
	return Attrs{Size: a.Size, ContentType: a.ContentType}, nil
}

// Delete removes the object. An object that is already gone is not an error, so a retried delete succeeds.
func (b *Bucket) Delete(ctx context.Context, object string) error {
	err := b.bucket.Object(object).Delete(ctx)
	if err != nil && !errors.Is(err, gcs.ErrObjectNotExist) {
		return fmt.Errorf("delete object %s: %w", object, err)
	}
	return nil
}
