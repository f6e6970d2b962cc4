# One container image per function, always built from the repository root: go.work needs every module of the
# workspace, and a function's go.mod points at ../../shared. (Never deploy a function's folder by source upload:
# the Go buildpack ignores go.work and sibling folders.)
#
#   docker build --build-arg FUNCTION=projects -t projects .   # ./functions/projects/cmd
#   docker build --build-arg FUNCTION=migrate  -t migrate  .   # ./scripts/migrate (the one name not under functions/)
#
# A function's image serves it through the Functions Framework on $PORT (Cloud Run sets it; 8080 otherwise).
# The migrate image applies the schema migrations and exits; cloudbuild.yaml runs it as a Cloud Run job
# (DATABASE_ADMIN_URL, or DIRECTORY_ADMIN_URL and TENANT_ADMIN_URL, come from the job's configuration).
#
# Everything before `ARG FUNCTION` is the same for every function, so when cloudbuild.yaml builds several images
# on one machine the module download and the compilation happen once and each image only links its binary.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0

# The whole workspace (go.work, go.work.sum and every module); .dockerignore keeps out bin/, .dev/, .git, docs...
COPY . .

# Download the modules the images need. (A bare `go mod download` in workspace mode fetches the whole module
# graph, well over a gigabyte, most of it never compiled.)
RUN go list -deps ./functions/*/cmd ./scripts/migrate > /dev/null

# Compile every function and migrate once into the build cache, with the same flags as the final build below.
RUN go build -trimpath ./functions/*/cmd ./scripts/migrate

ARG FUNCTION
RUN set -eu; \
	case "${FUNCTION:-}" in \
		"") echo "FUNCTION is required: --build-arg FUNCTION=<folder under functions/> or FUNCTION=migrate" >&2; exit 1 ;; \
		migrate) pkg=./scripts/migrate ;; \
		*) pkg="./functions/${FUNCTION}/cmd" ;; \
	esac; \
	if [ ! -f "${pkg}/main.go" ]; then echo "no ${pkg}/main.go for FUNCTION=${FUNCTION}" >&2; exit 1; fi; \
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app "${pkg}"

# Static binary, CA certificates and tzdata, no shell; runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/app"]
