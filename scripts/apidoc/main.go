// Command apidoc writes the OpenAPI 3 rendition of the gateway document (opentofu/gateway/openapi.yaml), the
// form clients, generators and documentation read: converted mechanically by shared/contract, without the CORS
// preflights and gateway extensions. `make client` feeds it to openapi-typescript and the Postman converter;
// the dev server serves the same bytes at GET /openapi.json.
//
//	go run ./scripts/apidoc [-document opentofu/gateway/openapi.yaml] [-server http://127.0.0.1:8080] [-o openapi.json]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/coditect/hyperscale/shared/contract"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "apidoc:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("apidoc", flag.ContinueOnError)
	document := fs.String("document", "", "the gateway document (default: "+contract.DocumentPath+" above the working directory)")
	out := fs.String("o", "", "where to write the OpenAPI 3 JSON (default: standard output)")
	server := fs.String("server", "", "the base URL clients call, written as the rendition's one server (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := *document
	if path == "" {
		found, err := contract.FindDocument(".")
		if err != nil {
			return err
		}
		path = found
	}
	doc, err := contract.ReadDocument(path)
	if err != nil {
		return err
	}
	if *server != "" {
		doc.Servers = openapi3.Servers{{URL: *server}}
	}
	j, err := contract.PublishedJSON(doc)
	if err != nil {
		return err
	}
	j = append(j, '\n')
	if *out == "" {
		_, err = os.Stdout.Write(j)
		return err
	}
	return os.WriteFile(*out, j, 0o644)
}
