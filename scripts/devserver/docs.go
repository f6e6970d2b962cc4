package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/coditect/hyperscale/shared/contract"
	"github.com/coditect/hyperscale/shared/httpx"
)

// docsAssets is where `make client` (and `make run`) install Swagger UI from npm, relative to the repository
// root; the page's scripts are served from there, not committed.
const docsAssets = "scripts/api/node_modules/swagger-ui-dist"

// docsPage loads Swagger UI on the OpenAPI 3 rendition. Its start-up script is a file of its own, so the page
// runs under a Content-Security-Policy without 'unsafe-inline' for scripts.
const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hyperscale API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
`

const docsStart = `window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#docs", deepLinking: true});
`

// docsCSP allows the page its own scripts and styles (Swagger UI sets inline styles) and calls to this server.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"

// handleDocs serves GET /openapi.json (the OpenAPI 3 rendition of the gateway document at docPath, read once)
// and GET /docs (Swagger UI over it, with its assets from assets) on mux.
func handleDocs(mux *http.ServeMux, docPath, assets string) error {
	doc, err := contract.ReadDocument(docPath)
	if err != nil {
		return err
	}
	spec, err := contract.PublishedJSON(doc)
	if err != nil {
		return err
	}
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(spec)
	})
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(filepath.Join(assets, "swagger-ui-bundle.js")); err != nil {
			httpx.WriteProblem(w, httpx.NewProblem(http.StatusServiceUnavailable, "docs_not_installed",
				fmt.Sprintf("Swagger UI is not installed in %s: run make client (GET /openapi.json works without it)", assets)))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", docsCSP)
		_, _ = w.Write([]byte(docsPage))
	})
	mux.HandleFunc("GET /docs/start.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(docsStart))
	})
	files := http.FileServer(http.Dir(assets))
	for _, name := range []string{"swagger-ui.css", "swagger-ui-bundle.js"} {
		mux.Handle("GET /docs/"+name, http.StripPrefix("/docs", files))
	}
	return nil
}

// repositoryRoot returns the folder that holds docPath as contract.DocumentPath.
func repositoryRoot(docPath string) string {
	return strings.TrimSuffix(filepath.ToSlash(docPath), contract.DocumentPath)
}
