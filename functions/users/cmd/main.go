// Command users serves the users function through the Functions Framework, for its container image.
package main

import (
	"log/slog"
	"os"

	_ "github.com/coditect/hyperscale/functions/users" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() {
	if err := service.Main("users"); err != nil {
		slog.Error("function stopped", "function", "users", "error", err.Error())
		os.Exit(1)
	}
}
