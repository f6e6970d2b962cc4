// Command tasks serves the tasks function through the Functions Framework, for its container image.
package main

import (
	_ "github.com/coditect/hyperscale/functions/tasks" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() { service.Main("tasks") }
