// Package gateway reads the platform's API Gateway document (opentofu/gateway/openapi.yaml) so that
// the dev server routes every request to the same function, on the same path, as API Gateway does
// in production.
package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Route is one operation of the gateway document.
type Route struct {
	// Method is the upper-case HTTP method, such as GET.
	Method string
	// Path is the path template as the document writes it, such as /v1/projects/{id}.
	Path string
	// Pattern is the net/http ServeMux pattern that matches what API Gateway matches, such as
	// "GET /v1/projects/{id}".
	Pattern string
	// Function is the name of the function that serves the route, such as stripe-webhook.
	Function string
	// OperationID is the operation's unique operationId.
	OperationID string
	// Secured reports whether API Gateway demands a valid bearer token before forwarding.
	Secured bool
}

// methods are the operations a Swagger 2.0 path item can hold; every other key of a path item
// (parameters, extensions) is not an operation.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

// backendAddress matches the template variable the OpenTofu module fills with a function's URL.
var backendAddress = regexp.MustCompile(`^\$\{backend_([a-z0-9]+(?:_[a-z0-9]+)*)\}$`)

// pathParam matches a whole-segment template parameter, the only kind API Gateway accepts and
// the kind that maps 1:1 onto a ServeMux wildcard.
var pathParam = regexp.MustCompile(`^\{[A-Za-z_][A-Za-z0-9_]*\}$`)

// pathParams finds the parameters of a path, to compare paths regardless of parameter names.
var pathParams = regexp.MustCompile(`\{[^/]*\}`)

// appendPath is the only translation under which a function sees the request's own path; with
// CONSTANT_ADDRESS it would see its base address and the dev server would route differently.
const appendPath = "APPEND_PATH_TO_ADDRESS"

type document struct {
	Swagger             string                          `yaml:"swagger"`
	Security            *[]map[string][]string          `yaml:"security"`
	SecurityDefinitions map[string]yaml.Node            `yaml:"securityDefinitions"`
	Paths               map[string]map[string]yaml.Node `yaml:"paths"`
}

type operation struct {
	OperationID string                 `yaml:"operationId"`
	Security    *[]map[string][]string `yaml:"security"`
	Backend     *backend               `yaml:"x-google-backend"`
}

type backend struct {
	Address         string `yaml:"address"`
	PathTranslation string `yaml:"path_translation"`
}

// Load reads a gateway document and returns its routes sorted by path, then method. It reports
// every problem of the document at once, each naming its method and path.
func Load(r io.Reader) ([]Route, error) {
	var doc document
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse gateway document: %w", err)
	}
	if doc.Swagger != "2.0" {
		return nil, fmt.Errorf("gateway document: swagger is %q, want \"2.0\" (API Gateway reads only Swagger 2.0)", doc.Swagger)
	}

	var (
		routes []Route
		errs   []error
		seen   = map[string]string{} // operationId -> "METHOD path" of its first use
		shapes = map[string]string{} // method and path with parameters unnamed -> "METHOD path"
	)
	for _, path := range sortedKeys(doc.Paths) {
		pattern, perr := muxPath(path)
		item := doc.Paths[path]
		for _, method := range methods {
			node, ok := item[method]
			if !ok {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			fail := func(format string, args ...any) {
				errs = append(errs, fmt.Errorf("gateway document: %s: "+format, append([]any{where}, args...)...))
			}
			if perr != nil {
				fail("%w", perr)
				continue
			}
			// Paths that differ only in parameter names match the same requests, which ServeMux
			// refuses to register and API Gateway cannot route unambiguously.
			shape := method + " " + pathParams.ReplaceAllString(path, "{}")
			if first, dup := shapes[shape]; dup {
				fail("matches the same requests as %s", first)
			} else {
				shapes[shape] = where
			}

			var op operation
			if err := node.Decode(&op); err != nil {
				errs = append(errs, fmt.Errorf("gateway document: %s: %w", where, err))
				continue
			}

			route := Route{
				Method:      strings.ToUpper(method),
				Path:        path,
				Pattern:     strings.ToUpper(method) + " " + pattern,
				OperationID: op.OperationID,
			}
			switch first, dup := seen[op.OperationID]; {
			case op.OperationID == "":
				fail("missing operationId")
			case dup:
				fail("duplicate operationId %q, already used by %s", op.OperationID, first)
			default:
				seen[op.OperationID] = where
			}

			if op.Backend == nil {
				fail("missing x-google-backend")
			} else {
				// Template variables cannot hold dashes, so function names travel with underscores.
				if m := backendAddress.FindStringSubmatch(op.Backend.Address); m != nil {
					route.Function = strings.ReplaceAll(m[1], "_", "-")
				} else {
					fail("x-google-backend address %q is not of the form ${backend_<function>}", op.Backend.Address)
				}
				if op.Backend.PathTranslation != appendPath {
					fail("x-google-backend path_translation is %q, want %s", op.Backend.PathTranslation, appendPath)
				}
			}

			// An operation's own list, even an empty one, replaces the document's.
			security := doc.Security
			if op.Security != nil {
				security = op.Security
			}
			if security != nil {
				route.Secured = len(*security) > 0
				for _, requirement := range *security {
					for _, name := range sortedKeys(requirement) {
						// API Gateway lets requests through unauthenticated when a requirement
						// names an undefined scheme, so a typo here would silently open the route.
						if _, ok := doc.SecurityDefinitions[name]; !ok {
							fail("security requirement %q is not in securityDefinitions", name)
						}
					}
				}
			}
			routes = append(routes, route)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(routes, func(a, b Route) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Method, b.Method))
	})
	if len(routes) == 0 {
		return nil, errors.New("gateway document: no operations under paths")
	}
	return routes, nil
}

// LoadFile reads the gateway document at path; see Load.
func LoadFile(path string) ([]Route, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open gateway document: %w", err)
	}
	defer f.Close()
	routes, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return routes, nil
}

// muxPath turns a document path into the path part of a ServeMux pattern.
func muxPath(path string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("path does not start with /")
	}
	for _, seg := range strings.Split(path[1:], "/") {
		if strings.ContainsAny(seg, "{}") && !pathParam.MatchString(seg) {
			return "", fmt.Errorf("path segment %q: a parameter must be a whole segment such as {id}", seg)
		}
	}
	// API Gateway matches a trailing slash literally, while ServeMux would treat it as a
	// subtree; {$} keeps the match exact.
	if strings.HasSuffix(path, "/") {
		return path + "{$}", nil
	}
	return path, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
