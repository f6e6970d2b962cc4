#!/usr/bin/env bash
# devdb.sh: make sure a PostgreSQL answers and print its admin URL on stdout.
#
#   scripts/devdb.sh ensure   print a postgres:// URL for a role that may create databases and roles:
#                             1. $DATABASE_ADMIN_URL, else $DATABASE_URL, if set and it answers;
#                             2. postgres://postgres@127.0.0.1:5432/postgres, if it answers
#                                (skipped when DEVDB_SKIP_DEFAULT=1);
#                             3. a throwaway cluster under <repo>/.dev/pg on 127.0.0.1:54329, started on demand.
#   scripts/devdb.sh stop     stop the throwaway cluster if it is running.
#
# Only the URL goes to stdout; every diagnostic goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEFAULT_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
DEV_PORT=54329
DEV_URL="postgres://postgres@127.0.0.1:${DEV_PORT}/postgres?sslmode=disable"
PGDIR="${ROOT}/.dev/pg"
# When running as root the cluster is owned by the postgres OS user, which must be able to reach PGDIR; if the
# checkout lives somewhere it cannot enter (e.g. under /root), the cluster goes to this fixed per-checkout place.
FALLBACK_PGDIR="${TMPDIR:-/tmp}/devdb-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)/pg"

log() { printf 'devdb: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# server_bindir prints the directory holding initdb/pg_ctl (highest installed version), or fails.
server_bindir() {
	local d
	d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
	if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then printf '%s\n' "$d"; return 0; fi
	if command -v pg_config >/dev/null 2>&1; then
		d="$(pg_config --bindir 2>/dev/null || true)"
		if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then printf '%s\n' "$d"; return 0; fi
	fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"; return 0
	fi
	return 1
}

# utf8_locale prints an installed UTF-8 locale for initdb, preferring C.UTF-8 (spelled as `locale -a` spells it).
utf8_locale() {
	local l
	l="$(locale -a 2>/dev/null | grep -iE '^c\.utf-?8$' | head -n1)"
	[[ -n "$l" ]] || l="$(locale -a 2>/dev/null | grep -iE '^en_us\.utf-?8$' | head -n1)"
	[[ -n "$l" ]] || return 1
	printf '%s\n' "$l"
}

# Client tools (psql, pg_isready) may only exist next to the server binaries.
if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
	if bindir="$(server_bindir)"; then PATH="${PATH}:${bindir}"; fi
fi

# answers URL: true when the URL accepts a connection (with psql: a real login, so bad auth counts as "no").
answers() {
	local url="$1"
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=3 psql -X -q -w -At -d "$url" -c 'select 1' >/dev/null 2>&1
	elif command -v pg_isready >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=3 pg_isready -q -d "$url" >/dev/null 2>&1
	else
		return 1
	fi
}

# cluster_dir prints where the throwaway cluster lives (or would live).
cluster_dir() {
	if [[ ${EUID} -eq 0 && ! -d "${PGDIR}/data" && -d "${FALLBACK_PGDIR}/data" ]]; then
		printf '%s\n' "$FALLBACK_PGDIR"
	else
		printf '%s\n' "$PGDIR"
	fi
}

# as_owner CMD...: run a server command as the cluster owner (the postgres OS user when we are root).
# fd 9 (the lock) is closed so that a started postmaster does not inherit and hold it.
as_owner() {
	if [[ ${EUID} -eq 0 ]]; then
		if command -v runuser >/dev/null 2>&1; then
			(cd / && runuser -u postgres -- "$@") 9>&-
		else
			(cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")") 9>&-
		fi
	else
		"$@" 9>&-
	fi
}

ensure_postgres_user() {
	[[ ${EUID} -eq 0 ]] || return 0
	id -u postgres >/dev/null 2>&1 && return 0
	command -v useradd >/dev/null 2>&1 || die "running as root and there is no 'postgres' OS user to own the cluster"
	log "creating the 'postgres' OS user to own the throwaway cluster"
	useradd --system --no-create-home --shell /bin/sh postgres
}

start_cluster() {
	local bindir dir data sock logf
	bindir="$(server_bindir)" ||
		die "PostgreSQL server binaries not found; install them with: apt-get install -y postgresql"
	ensure_postgres_user

	dir="$(cluster_dir)"
	if [[ ${EUID} -eq 0 && ! -d "${dir}/data" && "$dir" == "$PGDIR" ]]; then
		mkdir -p "$PGDIR"
		chown postgres: "$PGDIR"
		if ! as_owner test -w "$PGDIR"; then
			log "the postgres OS user cannot reach ${PGDIR}; using ${FALLBACK_PGDIR} instead"
			rmdir "$PGDIR" 2>/dev/null || true
			dir="$FALLBACK_PGDIR"
		fi
	fi
	data="${dir}/data" sock="${dir}/run" logf="${dir}/postgres.log"
	mkdir -p "$dir" "$sock"
	if [[ ${EUID} -eq 0 ]]; then chown -R postgres: "$dir"; fi

	# Serialise concurrent callers (two `make test` at once) around initdb/start.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${dir}/.lock"
		flock -w 60 9 || die "timed out waiting for the lock on ${dir}"
	fi

	if [[ ! -f "${data}/PG_VERSION" ]]; then
		log "initialising a throwaway cluster in ${data} ($("${bindir}/initdb" --version))"
		rm -rf "$data"
		# A UTF-8 ctype, as Cloud SQL has (en_US.UTF8): with --locale=C, lower() and ILIKE fold only ASCII, so
		# a search for "FÉ" would miss "Café". C.UTF-8 keeps C's byte-order collation and folds the rest.
		local loc
		loc="$(utf8_locale)" || die "no UTF-8 locale installed (locale -a lists none); install locales or C.UTF-8"
		as_owner "${bindir}/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale="$loc" >"${dir}/initdb.log" 2>&1 || {
			cat "${dir}/initdb.log" >&2
			die "initdb failed"
		}
		# Unix socket paths are limited to ~107 bytes; go TCP-only when the socket dir is too deep.
		local sockconf="$sock"
		if ((${#sock} > 90)); then sockconf=''; fi
		cat >>"${data}/postgresql.conf" <<-EOF

			# devdb.sh: throwaway development/test cluster
			listen_addresses = '127.0.0.1'
			port = ${DEV_PORT}
			unix_socket_directories = '${sockconf}'
			max_connections = 200
			fsync = off
			synchronous_commit = off
			full_page_writes = off
		EOF
		cat >"${data}/pg_hba.conf" <<-EOF
			# devdb.sh: trust everything local; this cluster listens on 127.0.0.1 only.
			local all all trust
			host  all all 127.0.0.1/32 trust
		EOF
	fi

	if as_owner "${bindir}/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		log "throwaway cluster in ${data} is already running"
	else
		log "starting the throwaway cluster on 127.0.0.1:${DEV_PORT} (log: ${logf})"
		as_owner "${bindir}/pg_ctl" -D "$data" -l "$logf" -w -t 30 start >&2 || {
			tail -n 20 "$logf" >&2 || true
			die "could not start the throwaway cluster (is port ${DEV_PORT} taken?)"
		}
	fi

	local i
	for ((i = 0; i < 60; i++)); do
		if "${bindir}/pg_isready" -q -h 127.0.0.1 -p "$DEV_PORT" 2>/dev/null && answers "$DEV_URL"; then
			return 0
		fi
		sleep 0.5
	done
	tail -n 20 "$logf" >&2 || true
	die "the throwaway cluster on 127.0.0.1:${DEV_PORT} did not answer within 30s"
}

cmd_ensure() {
	local name
	for name in DATABASE_ADMIN_URL DATABASE_URL; do
		[[ -n "${!name:-}" ]] || continue
		if answers "${!name}"; then
			printf '%s\n' "${!name}"
			return 0
		fi
		log "$name is set but does not answer; trying the alternatives"
	done
	if [[ "${DEVDB_SKIP_DEFAULT:-}" != 1 ]] && answers "$DEFAULT_URL"; then
		printf '%s\n' "$DEFAULT_URL"
		return 0
	fi
	start_cluster
	printf '%s\n' "$DEV_URL"
}

cmd_stop() {
	local bindir dir stopped=0
	for dir in "$PGDIR" "$FALLBACK_PGDIR"; do
		[[ -f "${dir}/data/PG_VERSION" ]] || continue
		bindir="$(server_bindir)" || die "PostgreSQL server binaries not found; cannot stop ${dir}/data"
		if as_owner "${bindir}/pg_ctl" -D "${dir}/data" status >/dev/null 2>&1; then
			log "stopping the throwaway cluster in ${dir}/data"
			as_owner "${bindir}/pg_ctl" -D "${dir}/data" -m fast -w -t 30 stop >&2
			stopped=1
		fi
	done
	if ((!stopped)); then log "no throwaway cluster running"; fi
}

case "${1:-}" in
ensure) cmd_ensure ;;
stop) cmd_stop ;;
*)
	echo "usage: $0 ensure|stop" >&2
	exit 2
	;;
esac
