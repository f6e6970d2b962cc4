module github.com/coditect/hyperscale/functions/auth

go 1.26.0

require (
	github.com/coditect/hyperscale/pubsub v0.0.0
	github.com/coditect/hyperscale/schema v0.0.0
	github.com/coditect/hyperscale/shared v0.0.0
)

replace (
	github.com/coditect/hyperscale/pubsub => ../../pubsub
	github.com/coditect/hyperscale/schema => ../../schema
	github.com/coditect/hyperscale/shared => ../../shared
)
