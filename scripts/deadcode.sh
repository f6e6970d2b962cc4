#!/usr/bin/env bash
# deadcode.sh PATTERN...: fails when golang.org/x/tools/cmd/deadcode (a Go tool of scripts/go.mod) finds a
# function of this repository that nothing reaches.
#
# Two questions, both over the whole workspace at once:
#   1. Is anything unreachable even from the tests (deadcode -test)? Then it is dead outright.
#   2. Is any production function reachable only from tests (deadcode without -test, from every main
#      package: the functions' cmd/, the dev server, migrate, seed, load)? Then production does not need it:
#      delete it, or move a test helper into a _test.go file or a *test package. Test-support packages
#      (dbtest, dbtest/isolation, servicetest, validtest, ...) are left out, and scripts/deadcode-allow.txt lists the few seams
#      that tests of other packages need, each with its reason; a stale entry there fails too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

repo='^github.com/coditect/hyperscale/'
format='{{range .Funcs}}{{$.Path}}.{{.Name}}{{"\n"}}{{end}}'
allow="scripts/deadcode-allow.txt"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0

# The two runs are independent and mostly single-threaded: run them side by side.
go tool deadcode -test -filter "$repo" -f "$format" "$@" >"$out/test" &
test_pid=$!
go tool deadcode -filter "$repo" -f "$format" "$@" >"$out/prod" &
prod_pid=$!
wait "$test_pid" || { echo "deadcode -test failed" >&2; exit 1; }
wait "$prod_pid" || { echo "deadcode failed" >&2; exit 1; }

if [[ -s "$out/test" ]]; then
	echo "deadcode: unreachable from every main package and every test (delete or use them):" >&2
	sed 's/^/  /' "$out/test" >&2
	failed=1
fi

grep -vE '/[a-z]+test(/[a-z0-9_]+)*\.[^/]+$' "$out/prod" | sort -u >"$out/prod-only" || true
grep -vE '^[[:space:]]*(#|$)' "$allow" | sort -u >"$out/allowed"
comm -23 "$out/prod-only" "$out/allowed" >"$out/new"
comm -13 "$out/prod-only" "$out/allowed" >"$out/stale"
if [[ -s "$out/new" ]]; then
	echo "deadcode: production functions that only tests reach (delete them, or move test helpers into a" >&2
	echo "_test.go file or a *test package; a seam other packages' tests need goes into $allow):" >&2
	sed 's/^/  /' "$out/new" >&2
	failed=1
fi
if [[ -s "$out/stale" ]]; then
	echo "deadcode: $allow lists functions that are no longer dead or no longer exist (remove them):" >&2
	sed 's/^/  /' "$out/stale" >&2
	failed=1
fi
if ((failed)); then exit 1; fi
echo "deadcode: nothing unreachable"
