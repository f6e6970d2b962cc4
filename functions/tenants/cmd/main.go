// Command tenants serves the tenants function through the Functions Framework, for its container image.
package main

import (
	"log/slog"
	"os"

	_ "github.com/coditect/hyperscale/functions/tenants" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() {
	if err := service.Main("tenants"); err != nil {
		slog.Error("function stopped", "function", "tenants", "error", err.Error())
		os.Exit(1)
	}
}
