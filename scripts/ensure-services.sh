#!/usr/bin/env bash
# Make sure the servers the test suite needs are installed, and PostgreSQL is up with trust auth.
#
# - Installs (Debian, as root) only what is missing: mosquitto, influxdb, postgresql, docker-compose,
#   chromium and chromium-driver (the browser tests), npm (axe-core for their accessibility checks),
#   caddy (the TLS proxy's Caddyfile, tested).
#   Package installs do not start daemons (policy-rc.d); the tests start their own brokers.
# - Never touches a Mosquitto or InfluxDB that is already running (e.g. the system broker on 1883).
# - Starts the PostgreSQL cluster if it is stopped and makes `psql -h 127.0.0.1 -U postgres` work.
# - With HOMESAFE_TEST_PG_ADMIN_URL set, that server is used as is and only checked.
# Idempotent; when everything is in place it only checks, in well under two seconds.
set -euo pipefail

say() { printf 'ensure-services: %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }

have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

pg_server_installed() {
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

missing_packages=()
have mosquitto || missing_packages+=(mosquitto)
have influxd || missing_packages+=(influxdb)
{ have psql && pg_server_installed; } || missing_packages+=(postgresql)
have docker-compose || missing_packages+=(docker-compose)
# Headless Chromium for the browser tests (tests/e2e/browser, driven by Python's playwright).
have chromium || missing_packages+=(chromium)
have chromedriver || missing_packages+=(chromium-driver)
# npm fetches axe-core (the browser tests' accessibility checks) from the npm registry at test time.
have npm || missing_packages+=(npm)
# Caddy runs scripts/docker/Caddyfile (the compose file's TLS proxy) in the security tests.
have caddy || missing_packages+=(caddy)

if [ "${#missing_packages[@]}" -gt 0 ]; then
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        say "missing: ${missing_packages[*]}"
        say "install them (Debian: sudo apt-get install -y ${missing_packages[*]}) or run 'make test' as root"
        exit 1
    fi
    say "installing: ${missing_packages[*]}"
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # Keep new daemons (a second broker on 1883, an influxd on 8086/8088) from starting.
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    cleanup_policy() { if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
    trap cleanup_policy EXIT
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing_packages[@]}" >/dev/null
    cleanup_policy
    trap - EXIT
fi

pg_ok() {
    PGCONNECT_TIMEOUT=3 psql -w "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

if [ -n "${HOMESAFE_TEST_PG_ADMIN_URL:-}" ]; then
    if pg_ok "$HOMESAFE_TEST_PG_ADMIN_URL"; then
        exit 0
    fi
    say "PostgreSQL at HOMESAFE_TEST_PG_ADMIN_URL does not answer"
    exit 1
fi

admin_url="postgresql://postgres@127.0.0.1:5432/postgres"
if pg_ok "$admin_url"; then
    exit 0
fi

if ! is_root; then
    say "PostgreSQL does not accept 'psql -h 127.0.0.1 -U postgres' on port 5432 (trust)."
    say "start it and allow trust for 127.0.0.1, run 'make test' as root, or set HOMESAFE_TEST_PG_ADMIN_URL"
    exit 1
fi

# The Debian cluster on port 5432 (or the newest one, or a new 'main' cluster).
cluster_line=$(pg_lsclusters -h 2>/dev/null | awk '$3 == 5432' | head -n1 || true)
if [ -z "$cluster_line" ]; then
    cluster_line=$(pg_lsclusters -h 2>/dev/null | sort -V | tail -n1 || true)
fi
if [ -z "$cluster_line" ]; then
    version=$(basename "$(compgen -G '/usr/lib/postgresql/*' | sort -V | tail -n1)")
    say "creating PostgreSQL $version cluster 'main' on port 5432"
    pg_createcluster --port 5432 "$version" main >/dev/null
    cluster_line=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"')
fi
read -r pg_version pg_cluster pg_port pg_status _ <<<"$cluster_line"
if [ "$pg_port" != 5432 ]; then
    say "PostgreSQL cluster $pg_version/$pg_cluster listens on $pg_port, not 5432;" \
        "set HOMESAFE_TEST_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:$pg_port/postgres"
    exit 1
fi

hba=$(pg_conftool -s "$pg_version" "$pg_cluster" show hba_file 2>/dev/null || true)
[ -n "$hba" ] || hba="/etc/postgresql/$pg_version/$pg_cluster/pg_hba.conf"
if [ -f "$hba" ] && ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    say "allowing trust for 127.0.0.1 and ::1 in $hba"
    tmp=$(mktemp)
    {
        echo "# added by homesafe scripts/ensure-services.sh for the test suite"
        echo "host    all    all    127.0.0.1/32    trust"
        echo "host    all    all    ::1/128         trust"
        cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba"
    rm -f "$tmp"
    pg_changed=1
else
    pg_changed=0
fi

if [ "$pg_status" != online ]; then
    say "starting PostgreSQL $pg_version/$pg_cluster"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_cluster" start
elif [ "$pg_changed" -eq 1 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_cluster" reload
fi

for _ in $(seq 1 50); do
    if pg_ok "$admin_url"; then
        exit 0
    fi
    sleep 0.2
done
say "PostgreSQL $pg_version/$pg_cluster still refuses 'psql -h 127.0.0.1 -U postgres'"
exit 1
