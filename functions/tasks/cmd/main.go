// Command tasks serves the tasks function through the Functions Framework, for its container image.
package main

import (
	"log/slog"
	"os"

	_ "github.com/coditect/hyperscale/functions/tasks" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() {
	if err := service.Main("tasks"); err != nil {
		slog.Error("function stopped", "function", "tasks", "error", err.Error())
		os.Exit(1)
	}
}
