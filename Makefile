SHELL := bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

# Every module of the workspace, read from go.work's `use` lines (a new functions/<fn> is picked up once it is
# added there with `go work use ./functions/<fn>`).
MODULES := $(patsubst ./%,%,$(shell go work edit -json go.work | sed -n 's/^[[:space:]]*"DiskPath": "\(.*\)",*$$/\1/p'))
# Every deployable function: a folder under functions/ with its own go.mod.
FUNCTIONS := $(sort $(patsubst functions/%/go.mod,%,$(wildcard functions/*/go.mod)))

# $(call no_packages,dir): shell condition, true when the module in dir has no Go package yet (go test/vet
# refuse to run on an empty pattern).
no_packages = [[ -z "$$(find "$(1)" -name '*.go' -not -path '*/testdata/*' -print -quit)" ]]

# PATTERNS: a ./<module>/... pattern for every module that has a Go package. test and lint hand them all to one
# go command at the workspace root, so each package is loaded and built once and modules do not wait for each
# other.
PATTERNS := $(foreach m,$(MODULES),$(if $(shell find "$(m)" -name '*.go' -not -path '*/testdata/*' -print -quit),./$(m)/...))

# The gateway document: the route table of API Gateway and the dev server, and the API contract.
DOCUMENT := opentofu/gateway/openapi.yaml

FUNCTION ?=
TESTFLAGS ?=
EMAIL ?=

.PHONY: help test lint lint-vet lint-analysis build migrate run unlock check-build clean deploy client api-check api-tools

help: ## list the targets and the environment they read
	@echo "usage: make <target> [FUNCTION=name] [TESTFLAGS=...] [EMAIL=...]"
	@echo
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "environment (make run / unlock / test):"
	@echo "  PORT=8080                  the dev server's port"
	@echo "  DEV_HOST=127.0.0.1         the interface it listens on (0.0.0.0 for every one)"
	@echo "  DEV_DATABASE=hyperscale    the database it creates and migrates (a new name starts afresh)"
	@echo "  DEV_OIDC_PORT=8089         the in-process OIDC provider for SSO (DEV_OIDC_EMAIL, DEV_STORAGE_DIR too)"
	@echo "  LOG_FORMAT=text            text or json (json, Cloud Logging's shape, is the default outside make run)"
	@echo "  LOG_LEVEL=info             debug, info, warn or error"
	@echo "  TOKEN_SIGNING_KEYS         PEM keys; unset, make run keeps one in .dev/token-signing-key.pem"
	@echo "  DATABASE_ADMIN_URL         a PostgreSQL role that may create databases (else DATABASE_URL, else"
	@echo "                             127.0.0.1:5432, else a throwaway cluster under .dev/pg on port 54329)"
	@echo "  TEST_DATABASE_URL          the server tests clone their databases on (make test finds one)"
	@echo "  BENCH_DATABASE_URL         the seeded 1M-tenant database; unset, scripts/bench's checks skip"
	@echo "  (the functions' own settings are listed in the README's Configuration table)"
	@echo
	@echo "modules:   $(MODULES)"
	@echo "functions: $(FUNCTIONS)"

test: ## run every module's tests in one go test against a real PostgreSQL (TESTFLAGS=-race ...)
	@url="$$(scripts/devdb.sh ensure)" || exit 1; \
	export TEST_DATABASE_URL="$$url"; \
	echo "go test $(PATTERNS)"; \
	status=0; go test -shuffle=on -count=1 $(TESTFLAGS) $(PATTERNS) || status=$$?; \
	if [[ -z "$${BENCH_DATABASE_URL:-}" ]]; then \
		echo "SKIPPED: scripts/bench's large-tenant checks (TestPlansUseIndexes, TestLargeTenantMedians) need the"; \
		echo "         seeded database: go run ./scripts/seed -reset, then BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/hyperscale_bench make test"; \
	fi; \
	if (( status )); then echo "FAIL: tests failed (the FAIL lines above name the packages)" >&2; exit 1; fi; \
	echo "PASS: all modules"

lint: lint-vet lint-analysis ## gofmt, go vet, staticcheck and deadcode over every module

lint-vet: ## the quick half of lint: gofmt and go vet (it compiles every package, which the tests reuse)
	@failed=(); \
	unformatted="$$(git ls-files -z --cached --others --exclude-standard -- '*.go' \
		| while IFS= read -r -d '' f; do if [[ -f "$$f" ]]; then printf '%s\0' "$$f"; fi; done \
		| xargs -0 -r gofmt -l)" || failed+=("gofmt"); \
	if [[ -n "$$unformatted" ]]; then \
		echo "gofmt: these files need formatting (run gofmt -w):" >&2; echo "$$unformatted" >&2; failed+=("gofmt"); \
	fi; \
	echo "=== go vet $(PATTERNS)"; \
	go vet $(PATTERNS) || failed+=("vet"); \
	if (( $${#failed[@]} )); then echo "FAIL: lint failed: $${failed[*]}" >&2; exit 1; fi; \
	echo "PASS: gofmt, go vet"

lint-analysis: ## the slow half of lint: staticcheck and deadcode
	@failed=(); \
	echo "=== staticcheck"; \
	go tool staticcheck $(PATTERNS) || failed+=("staticcheck"); \
	echo "=== deadcode"; \
	scripts/deadcode.sh $(PATTERNS) || failed+=("deadcode"); \
	if (( $${#failed[@]} )); then echo "FAIL: lint failed: $${failed[*]}" >&2; exit 1; fi; \
	echo "PASS: staticcheck, deadcode"

build: ## build bin/<fn> for every function (or FUNCTION=name), plus bin/devserver and bin/migrate
	@mkdir -p bin; \
	for fn in $(or $(FUNCTION),$(FUNCTIONS)); do \
		[[ -f "functions/$$fn/cmd/main.go" ]] || { echo "no functions/$$fn/cmd/main.go" >&2; exit 1; }; \
		echo "build bin/$$fn"; \
		CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "bin/$$fn" "./functions/$$fn/cmd" || exit 1; \
	done
ifeq ($(FUNCTION),)
	@for tool in devserver migrate; do \
		echo "build bin/$$tool"; \
		CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "bin/$$tool" "./scripts/$$tool" || exit 1; \
	done
endif

migrate: ## apply the migrations (DATABASE_ADMIN_URL, default: scripts/devdb.sh ensure)
	@url="$${DATABASE_ADMIN_URL:-}"; \
	if [[ -z "$$url" ]]; then url="$$(scripts/devdb.sh ensure)" || exit 1; fi; \
	DATABASE_ADMIN_URL="$$url" go run ./scripts/migrate

run: ## the whole platform locally on 127.0.0.1:8080 (PORT, DEV_HOST; migrates DEV_DATABASE first; text logs; docs at /docs)
	@$(MAKE) --no-print-directory api-tools || echo "make run: could not install scripts/api's npm packages; /docs will say so (GET /openapi.json still works)" >&2
	@url="$$(scripts/devdb.sh ensure)" || exit 1; \
	DATABASE_ADMIN_URL="$$url" exec go run ./scripts/devserver

unlock: ## clear the login throttle of the dev database for EMAIL=address (everyone without EMAIL)
	@url="$$(scripts/devdb.sh ensure)" || exit 1; \
	DATABASE_ADMIN_URL="$$url" go run ./scripts/devserver unlock $(EMAIL)

# API_BASE is the revision api-check compares the gateway document with.
API_BASE ?= main
API_OUT := scripts/api/generated

api-tools: ## install scripts/api's npm packages (Swagger UI, openapi-typescript, Redocly, the Postman converter), once
	@if [[ ! -d scripts/api/node_modules || scripts/api/package-lock.json -nt scripts/api/node_modules ]]; then \
		echo "npm ci (scripts/api)"; (cd scripts/api && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) && touch scripts/api/node_modules; \
	fi

client: api-tools ## from the gateway document: Redocly lint, TypeScript types + the example client type-checked, a Postman collection
	@mkdir -p $(API_OUT); \
	echo "=== redocly lint (recommended rules) $(DOCUMENT)"; \
	(cd scripts/api && REDOCLY_TELEMETRY=off npx --no-install redocly lint --extends recommended --format stylish ../../$(DOCUMENT)) || exit 1; \
	echo "=== OpenAPI 3 rendition $(API_OUT)/openapi.json"; \
	go run ./scripts/apidoc -server http://127.0.0.1:$${PORT:-8080} -o $(API_OUT)/openapi.json || exit 1; \
	echo "=== TypeScript types $(API_OUT)/schema.d.ts, example client type-check"; \
	(cd scripts/api && npx --no-install openapi-typescript generated/openapi.json -o generated/schema.d.ts --silent && npx --no-install tsc -p .) || exit 1; \
	echo "=== Postman collection $(API_OUT)/hyperscale.postman_collection.json"; \
	(cd scripts/api && npx --no-install openapi2postmanv2 -s generated/openapi.json -o generated/hyperscale.postman_collection.json -p \
		-O folderStrategy=Tags,parametersResolution=Example >/dev/null) || exit 1; \
	echo "PASS: client"

api-check: ## fail on a breaking change to the gateway document against API_BASE (main) unless its major version rises
	@if ! git rev-parse --verify -q "$(API_BASE)^{commit}" >/dev/null; then \
		echo "SKIPPED: api-check: no revision $(API_BASE) to compare with (set API_BASE)"; exit 0; \
	fi; \
	go run ./scripts/apicheck -base "$(API_BASE)"

check-build: ## build and vet every function on its own (GOWORK=off)
	@failed=(); \
	for fn in $(FUNCTIONS); do \
		echo "=== functions/$$fn (GOWORK=off)"; \
		if $(call no_packages,functions/$$fn); then echo "(no packages yet)"; continue; fi; \
		(cd "functions/$$fn" && GOWORK=off go build ./... && GOWORK=off go vet ./...) || failed+=("$$fn"); \
	done; \
	if (( $${#failed[@]} )); then echo "FAIL: check-build failed in: $${failed[*]}" >&2; exit 1; fi; \
	echo "PASS: every function builds alone"

clean: ## remove bin/ and stop the throwaway PostgreSQL
	rm -rf bin
	scripts/devdb.sh stop

# make deploy settings; an empty one leaves cloudbuild.yaml's default substitution (_REGION, _REPOSITORY, _ENV)
# and gcloud's configured project in place.
PROJECT ?=
REGION ?=
REPOSITORY ?=
DEPLOY_ENV ?=
comma := ,
deploy_substitutions = _FUNCTION=$(FUNCTION),SHORT_SHA=$$sha$(if $(REGION),$(comma)_REGION=$(REGION))$(if $(REPOSITORY),$(comma)_REPOSITORY=$(REPOSITORY))$(if $(DEPLOY_ENV),$(comma)_ENV=$(DEPLOY_ENV))

deploy: ## test, build, migrate and deploy FUNCTION=name (or all) with Cloud Build [PROJECT REGION REPOSITORY DEPLOY_ENV]
	@command -v gcloud >/dev/null 2>&1 || { echo "deploy: gcloud not found; install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then gcloud auth login" >&2; exit 1; }
	@[[ -n "$(FUNCTION)" ]] || { echo "usage: make deploy FUNCTION=<name>|all   (functions: $(FUNCTIONS))" >&2; exit 1; }
	@[[ " all $(FUNCTIONS) " == *" $(FUNCTION) "* ]] || { echo "deploy: no function '$(FUNCTION)' (functions: $(FUNCTIONS), or all)" >&2; exit 1; }
	@[[ -z "$$(git status --porcelain)" ]] || { echo "deploy: uncommitted changes; images are tagged with the commit, so commit or stash first" >&2; git status --short >&2; exit 1; }
	sha="$$(git rev-parse --short=7 HEAD)" && \
	gcloud builds submit . --config=cloudbuild.yaml $(if $(PROJECT),--project=$(PROJECT)) \
		--substitutions="$(deploy_substitutions)"
