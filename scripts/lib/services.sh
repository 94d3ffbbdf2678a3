# shellcheck shell=bash
# Sourced by scripts/run, scripts/benchmark and scripts/infra: the one list of services, free
# ports, and (after `. $MERCATO_STATE_DIR/env`) how the services of one installation start and
# log in. Each has its own broker user (least privilege, made
# by `mercato topology apply`, passwords under the state directory) and its own PostgreSQL
# role owning only its database (made by scripts/infra), and verifies tokens with the
# signing key in AUTH_JWT_SECRET_FILE.

# The one list of services (deploy/services.tsv; DeployTests keeps it equal to Contracts'
# MercatoService.all): name, port, database, role, exchange.
services_table="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/services.tsv"

# Every service's name, one per line.
service_names() {
  awk -F'\t' '!/^#/ && NF { print $1 }' "$services_table"
}

# The environment variable naming service $1's URL, for the services that call it:
# order-service -> ORDER_SERVICE_URL.
service_url_variable() {
  local upper=${1^^}
  echo "${upper//-/_}_URL"
}

# A column of service $1's line: port, database, role or exchange.
service_field() {
  local column
  case $2 in
    port) column=2 ;; database) column=3 ;; role) column=4 ;; exchange) column=5 ;;
    *) echo "service_field: no column $2" >&2; return 1 ;;
  esac
  awk -F'\t' -v name="$1" -v column="$column" '!/^#/ && $1 == name { print $column; found = 1 } END { exit !found }' "$services_table"
}

# The admin step: the topology, and one least-privilege broker user per service. $1: the
# directory holding the `mercato` binary.
apply_broker_setup() {
  "$1/mercato" topology apply --password-dir "$MERCATO_STATE_DIR/broker-users" >"$MERCATO_STATE_DIR/topology-apply.log"
}

# The service's AMQP URL: its own user on the installation's broker (on a cluster, one URL
# per node, as AMQP_URL lists them).
amqp_url_of() {
  local password urls=() url nodes
  password=$(cat "$MERCATO_STATE_DIR/broker-users/$1")
  IFS=, read -r -a nodes <<<"$AMQP_URL"
  for url in "${nodes[@]}"; do urls+=("amqp://$1:$password@${url#*@}"); done
  (IFS=,; echo "${urls[*]}")
}

# The service's DATABASE_URL: its own role and database.
database_url_of() {
  local hostport=${MERCATO_POSTGRES_URL#*@}
  echo "postgres://$(service_field "$1" role)@$hostport/$(service_field "$1" database)"
}

# A development signing key (256 random bits, this user only) in $1, made if missing.
ensure_signing_key() {
  if [ ! -s "$1" ]; then
    mkdir -p "$(dirname "$1")"
    ( umask 077; openssl rand -hex 32 >"$1" )
    echo "created the development signing key $1" >&2
  fi
}

# Ends every service process started from the binaries in $1 (MERCATO_BIN_DIR) that is still
# running: the system tests stop theirs, but a test run that is interrupted or times out
# leaves its children behind, idle and holding memory (they skewed a benchmark's RSS once).
stop_leftover_services() {
  local dir=$1 name
  [ -n "$dir" ] || return 0
  for name in $(service_names); do
    pkill -TERM -x -f "$dir/$name" 2>/dev/null || true
  done
}

# A port nobody listens on, below the kernel's ephemeral range: a port the kernel picked
# (bind to port 0) is one it also hands to outgoing connections, so after a fault-injection
# restart the node's own port could be taken by a client's socket (seen: RabbitMQ failing to
# boot with dist_port_already_used). Random, so two runs side by side rarely collide, and
# checked by binding it.
free_port() {
  python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    port = random.randrange(10000, low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port below the ephemeral range")
PY
}

# Whether something listens on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Port $1 when MERCATO_FIXED_PORTS=1 and it is free, a free one otherwise.
pick_port() {
  if [ "${MERCATO_FIXED_PORTS:-0}" = 1 ] && ! port_in_use "$1"; then echo "$1"; else free_port; fi
}

# Starts service $1 from the binaries in $MERCATO_SERVICE_BIN in the background, on port $2,
# logging to $3, with the extra VAR=value settings that follow; appends its pid to the
# caller's `pids`. LOG_LEVEL defaults to info.
start_service() {
  local name=$1 port=$2 log=$3
  shift 3
  env PORT="$port" AMQP_URL="$(amqp_url_of "$name")" DATABASE_URL="$(database_url_of "$name")" \
    LOG_LEVEL="${LOG_LEVEL:-info}" "$@" "$MERCATO_SERVICE_BIN/$name" >"$log" 2>&1 &
  pids+=($!)
}

# Waits up to a minute for each port after $1 to answer /health/ready; if one does not, prints
# the ends of the logs in directory $1 and fails.
wait_ready() {
  local logs=$1 port
  shift
  for port in "$@"; do
    for _ in $(seq 1 120); do
      curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break
      sleep 0.5
    done
    curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" || {
      echo "the service on port $port did not become ready; logs in $logs" >&2
      tail -n 20 "$logs"/*.log >&2
      return 1
    }
  done
}
