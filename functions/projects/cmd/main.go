// Command projects serves the projects function through the Functions Framework, for its container image.
package main

import (
	"log/slog"
	"os"

	_ "github.com/coditect/hyperscale/functions/projects" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() {
	if err := service.Main("projects"); err != nil {
		slog.Error("function stopped", "function", "projects", "error", err.Error())
		os.Exit(1)
	}
}
