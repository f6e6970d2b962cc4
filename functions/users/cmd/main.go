// Command users serves the users function through the Functions Framework, for its container image.
package main

import (
	_ "github.com/coditect/hyperscale/functions/users" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() { service.Main("users") }
