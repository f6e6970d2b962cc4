// Command auth serves the auth function through the Functions Framework, for its container image.
package main

import (
	"log/slog"
	"os"

	_ "github.com/coditect/hyperscale/functions/auth" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() {
	if err := service.Main("auth"); err != nil {
		slog.Error("function stopped", "function", "auth", "error", err.Error())
		os.Exit(1)
	}
}
