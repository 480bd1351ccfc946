#!/usr/bin/env bash
# A local fleet without Docker, from Debian packages: Redis, PostgreSQL, two instances of the agent and HAProxy
# in front of them with the committed deploy/haproxy/haproxy.cfg. For development, and for the fleet tests.
#
#   scripts/local-fleet.sh            # HAProxy on :8080 (point the PUBLIC_URL tunnel there), Ctrl-C stops all
#
# Needs: apt-get install -y redis-server postgresql haproxy (see .ci/run). Settings for the instances come from .env
# and the environment, as for `npm start`; this script sets per instance PORT, INSTANCE_ID, DATA_DIR, REDIS_URL and
# DATABASE_URL. Environment knobs:
#   FLEET_PORT=8080          HAProxy's port (the fleet's public entry)
#   FLEET_AGENT_PORTS="8081 8082"  the instances' ports (agent-1, agent-2)
#   FLEET_REDIS_PORT=6380 FLEET_POSTGRES_PORT=5433
#   FLEET_POSTGRES=0         no PostgreSQL
#   FLEET_DIR=<dir>          where data and logs go (default: a new temp dir, removed on exit unless FLEET_KEEP=1)
set -euo pipefail
cd "$(dirname "$0")/.."

fleet_port="${FLEET_PORT:-8080}"
read -r -a agent_ports <<< "${FLEET_AGENT_PORTS:-8081 8082}"
redis_port="${FLEET_REDIS_PORT:-6380}"
postgres_port="${FLEET_POSTGRES_PORT:-5433}"
with_postgres="${FLEET_POSTGRES:-1}"
fleet_dir="${FLEET_DIR:-$(mktemp -d -t local-fleet-XXXXXX)}"
mkdir -p "$fleet_dir"

need() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
    echo "local-fleet: $1 not found: apt-get install -y $2" >&2
    exit 1
  fi
}
need redis-server redis-server
need haproxy haproxy
if [ "$with_postgres" = 1 ]; then
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$pg_bin" ] || { echo "local-fleet: PostgreSQL not found: apt-get install -y postgresql" >&2; exit 1; }
fi

pids=()
pg_dir=""
cleanup() {
  trap - EXIT INT TERM
  echo "local-fleet: stopping" >&2
  # Reverse order: the proxy first, then the instances (they drain), then their dependencies.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${pg_dir:-}" ]; then rm -rf "$pg_dir"; fi
  if [ -z "${FLEET_DIR:-}" ] && [ "${FLEET_KEEP:-0}" != 1 ]; then rm -rf "$fleet_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # name, command...
  local name="$1"; shift
  for _ in $(seq 1 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "local-fleet: $name did not become ready; see $fleet_dir/*.log" >&2
  exit 1
}

redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$fleet_dir" --save '' --appendonly no --daemonize no \
  >"$fleet_dir/redis.log" 2>&1 &
pids+=($!)
wait_for redis redis-cli -p "$redis_port" ping
export REDIS_URL="redis://127.0.0.1:$redis_port"

if [ "$with_postgres" = 1 ]; then
  # The cluster gets a directory of its own: PostgreSQL refuses to run as root, so as root it runs as the
  # postgres user, which must own its directory (and may not be able to enter FLEET_DIR).
  pg_dir="$(mktemp -d -t local-fleet-postgres-XXXXXX)"
  run_pg=()
  if [ "$(id -u)" = 0 ]; then
    run_pg=(runuser -u postgres --)
    chown postgres: "$pg_dir"
  fi
  "${run_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >"$fleet_dir/initdb.log" 2>&1 \
    || { echo "local-fleet: initdb failed:" >&2; cat "$fleet_dir/initdb.log" >&2; exit 1; }
  "${run_pg[@]}" "$pg_bin/postgres" -D "$pg_dir/data" -p "$postgres_port" -k "$pg_dir" -c listen_addresses=127.0.0.1 \
    >"$fleet_dir/postgres.log" 2>&1 &
  pids+=($!)
  wait_for postgres "$pg_bin/pg_isready" -h 127.0.0.1 -p "$postgres_port"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$postgres_port/postgres"
fi

haproxy_env=()
for index in "${!agent_ports[@]}"; do
  id="agent-$((index + 1))"
  port="${agent_ports[index]}"
  mkdir -p "$fleet_dir/$id"
  # Each instance its own process, port, identity and data directory; the same Redis and Postgres.
  PORT="$port" HOST=127.0.0.1 INSTANCE_ID="$id" DATA_DIR="$fleet_dir/$id" \
    node --import tsx src/main.ts >"$fleet_dir/$id.log" 2>&1 &
  pids+=($!)
  haproxy_env+=("AGENT_$((index + 1))_ADDR=127.0.0.1:$port")
done
for port in "${agent_ports[@]}"; do
  wait_for "the instance on :$port" node -e "fetch('http://127.0.0.1:$port/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
done

# The committed configuration routes agent-1 and agent-2; for more, render one with scripts/haproxy-config.ts.
haproxy_cfg="deploy/haproxy/haproxy.cfg"
if [ "${#agent_ports[@]}" != 2 ]; then
  ids=(); for index in "${!agent_ports[@]}"; do ids+=("agent-$((index + 1))"); done
  haproxy_cfg="$fleet_dir/haproxy.cfg"
  node --import tsx scripts/haproxy-config.ts "${ids[@]}" >"$haproxy_cfg"
fi
env "${haproxy_env[@]}" HAPROXY_BIND="127.0.0.1:$fleet_port" haproxy -db -W -f "$haproxy_cfg" >"$fleet_dir/haproxy.log" 2>&1 &
pids+=($!)
wait_for haproxy node -e "fetch('http://127.0.0.1:$fleet_port/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

echo "local-fleet: ready on http://127.0.0.1:$fleet_port (instances: ${agent_ports[*]}; Redis :$redis_port$([ "$with_postgres" = 1 ] && echo "; Postgres :$postgres_port"); logs in $fleet_dir)"
# The browser phone, through HAProxy: every instance holds the same key (BROWSER_PHONE_KEY, or the one the first
# instance stored in Redis). Printed here, to the terminal only: the instances never print or log it.
phone_key="${BROWSER_PHONE_KEY:-$(redis-cli -p "$redis_port" --raw GET phone-agent:agreed:browser-phone-key)}"
if [ -n "$phone_key" ]; then
  echo "local-fleet: talk to the agent in your browser: http://localhost:$fleet_port/phone#key=$phone_key"
elif node -e "fetch('http://127.0.0.1:$fleet_port/phone').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
  echo "local-fleet: talk to the agent in your browser: http://localhost:$fleet_port/phone#key=<BROWSER_PHONE_KEY from .env>"
fi
echo "local-fleet: Ctrl-C stops everything" >&2
wait -n "${pids[@]}" || true
echo "local-fleet: a process exited; see $fleet_dir/*.log" >&2
exit 1
