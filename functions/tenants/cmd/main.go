// Command tenants serves the tenants function through the Functions Framework, for its container image.
package main

import (
	_ "github.com/coditect/hyperscale/functions/tenants" // registers the function
	"github.com/coditect/hyperscale/shared/service"
)

func main() { service.Main("tenants") }
