// Command projects serves the projects function through the Functions Framework, for its container image.
package main

import (
	_ "github.com/coditect/hyperscale/functions/projects" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() { service.Main("projects") }
