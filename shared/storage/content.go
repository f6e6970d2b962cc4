package storage

import (
	"mime"
	"strings"
)

// OpaqueContentType is what a download is served as when its stored type is not known to be safe.
const OpaqueContentType = "application/octet-stream"

// activeTypes are media types a browser runs, or renders as a document that may run script, when it opens
// them: HTML and its relatives, SVG, XML (XSLT can turn it into HTML), scripts, Flash and web archives. Any
// type with the +xml suffix counts as XML too (see ActiveContent).
var activeTypes = map[string]bool{
	"text/html": true, "application/xhtml+xml": true, "image/svg+xml": true,
	"text/xml": true, "application/xml": true, "text/xsl": true, "application/xslt+xml": true,
	"text/javascript": true, "application/javascript": true, "application/x-javascript": true, "text/x-javascript": true,
	"application/ecmascript": true, "text/ecmascript": true, "application/x-ecmascript": true, "text/x-ecmascript": true,
	"text/jscript": true, "text/livescript": true, "text/vbscript": true, "text/vbs": true, "module/javascript": true,
	"application/wasm": true, "text/x-component": true, "application/hta": true,
	"application/x-shockwave-flash": true, "application/futuresplash": true,
	"message/rfc822": true, "multipart/related": true, "application/x-mimearchive": true, "multipart/x-mixed-replace": true,
	"text/cache-manifest": true,
}

// ActiveContent reports whether content of contentType (with or without parameters) is something a browser
// would run or render as a scriptable document if it opened it. Such content must never be served from the
// platform's origins, so it is refused at upload. An unparsable type counts as active: nothing can be said of
// what a browser makes of it.
func ActiveContent(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.Contains(mt, "/") {
		return true
	}
	return activeTypes[mt] || strings.HasSuffix(mt, "+xml")
}

// safeTypes are media types browsers only display as media or text, or hand to another program: a download may
// keep them, so a browser shows a picture or a PDF for what it is when the user opens the saved file.
var safeTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true,
	"image/bmp": true, "image/tiff": true, "image/heic": true, "image/heif": true,
	"application/pdf": true, "text/plain": true, "text/csv": true, "text/markdown": true, "text/tab-separated-values": true,
	"application/json": true, "application/rtf": true,
	"application/msword": true, "application/vnd.ms-excel": true, "application/vnd.ms-powerpoint": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
	"application/vnd.oasis.opendocument.text":                                   true,
	"application/vnd.oasis.opendocument.spreadsheet":                            true,
	"application/vnd.oasis.opendocument.presentation":                           true,
	"application/zip": true, "application/gzip": true, "application/x-tar": true, "application/x-7z-compressed": true,
	"application/vnd.rar": true,
	"audio/mpeg":          true, "audio/mp4": true, "audio/ogg": true, "audio/wav": true, "audio/webm": true, "audio/aac": true,
	"audio/flac": true,
	"video/mp4":  true, "video/webm": true, "video/ogg": true, "video/quicktime": true, "video/mpeg": true,
}

// SafeContentType is the type a download of content stored as contentType is served as: the stored type when
// it is on the safe list (for text, with its charset and no other parameter), and OpaqueContentType otherwise,
// so a file that could run in a browser is never served as such, whatever was stored.
func SafeContentType(contentType string) string {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !safeTypes[mt] {
		return OpaqueContentType
	}
	if cs, ok := params["charset"]; ok && strings.HasPrefix(mt, "text/") {
		if v := mime.FormatMediaType(mt, map[string]string{"charset": cs}); v != "" {
			return v
		}
	}
	return mt
}
