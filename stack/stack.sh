#!/usr/bin/env bash
# The project's real stack without Docker: Apache Kafka (KRaft), the project's local-only
# Confluent-compatible schema registry (stack/registry; no Apicurio build resolves from what Maven
# Central serves here, docs/stack.md) and Redis, as local processes.
#
#   ./stack/stack.sh up [--brokers 1|3] [--all] [--shadow] [--restart]
#                                 start what is not running (idempotent),
#                                 wait until it answers; --all also the provider mock, the five
#                                 services and the lag service (page on :3100); --shadow also the
#                                 shadow deployment: the five services in SHADOW_MODE on :3010-3014
#                                 (`.shadow` topics, `shadow.` groups, Redis database 1) booking
#                                 at a sandbox mock on :4011; --restart first stops the services
#                                 so the current build runs; --brokers 3 runs three KRaft nodes
#                                 (controller quorum of three, replication 3, min ISR 2) on
#                                 9092/9094/9096 instead of one on 9092 (kept until down --purge);
#                                 --instances 2 (with --all) runs a second instance of each of the
#                                 five services in the same consumer groups, on :3020-3024 (kept
#                                 until down; --instances 1 goes back to one)
#   ./stack/stack.sh up --secure  the secured stack beside the plain one (stack/secure.sh): Kafka
#                                 over SASL_SSL (SCRAM-SHA-512), the registry behind basic auth,
#                                 Redis over TLS with an ACL user; `env --secure` prints its variables
#   ./stack/stack.sh status       exit 0 only when Kafka, the registry and Redis all answer
#   ./stack/stack.sh down [--purge]  stop what `up` started (--purge also deletes the data)
#   ./stack/stack.sh env          print export KAFKA_BROKERS=…, SCHEMA_REGISTRY_URL=…, REDIS_URL=… lines
#
# KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL already set: use that cluster, start nothing.
# STACK=docker: the same parts from docker-compose.yml.
# Docs: docs/stack.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${STACK_STATE_DIR:-$ROOT/.stack}
LOGS=$ROOT/logs/stack
# Versions, ports and entry points come from stack/manifest.json (also read by docker-compose.yml,
# generated from it, and by the tests' setup): one description of the parts.
manifest() { node "$ROOT/stack/manifest.mjs" "$@"; }
KAFKA_HOST=127.0.0.1
KAFKA_VERSION=$(manifest get kafka.version)
KAFKA_PORT=$(manifest get kafka.port)
CONTROLLER_PORT=$(manifest get kafka.controllerPort)
REGISTRY_PORT=$(manifest get registry.port)
# The project's own Redis, not the machine's 6379 (which may keep nothing on disk): issue 14.
REDIS_PORT=${STACK_REDIS_PORT:-$(manifest get redis.port)}
UP_TIMEOUT_S=${STACK_UP_TIMEOUT_S:-180}
DOWN_TIMEOUT_S=${STACK_DOWN_TIMEOUT_S:-30}

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# How many Kafka nodes: `up --brokers N` writes it; every later command reads it (default 1).
broker_count() { cat "$STATE/kafka/brokers" 2>/dev/null || echo 1; }
# Node i (1-based): its client port and its controller port.
node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
node_controller_port() { echo $((CONTROLLER_PORT + 2 * ($1 - 1))); }
# One node keeps the layout it always had (data in .stack/kafka/data, kafka.pid, logs/stack/kafka.log).
node_dir() { if (($(broker_count) == 1)); then echo "$STATE/kafka"; else echo "$STATE/kafka/node$1"; fi; }
node_pidfile() { if (($(broker_count) == 1)); then echo "$STATE/kafka.pid"; else echo "$STATE/kafka-$1.pid"; fi; }
node_log() { if (($(broker_count) == 1)); then echo "$LOGS/kafka.log"; else echo "$LOGS/kafka-$1.log"; fi; }
default_brokers_list() {
  local i out=()
  for ((i = 1; i <= $(broker_count); i++)); do out+=("$KAFKA_HOST:$(node_port "$i")"); done
  (IFS=,; echo "${out[*]}")
}
default_registry="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
default_redis="redis://127.0.0.1:$REDIS_PORT"

external_cluster() { [[ -n "${KAFKA_BROKERS:-}${SCHEMA_REGISTRY_URL:-}${REDIS_URL:-}" ]]; }
brokers() { echo "${KAFKA_BROKERS:-$(default_brokers_list)}"; }
registry_url() { echo "${SCHEMA_REGISTRY_URL:-$default_registry}"; }
redis_url() { echo "${REDIS_URL:-$default_redis}"; }

# ---------------------------------------------------------------- probes (each: exit 0 = answers)
kafka_answers() {
  local b
  for b in $(brokers | tr ',' ' '); do
    node "$ROOT/stack/kafka-ping.mjs" "$b" 2000 2>/dev/null || return 1
  done
}
registry_answers() { curl -fsS -m 3 -o /dev/null "$(registry_url)/subjects" 2>/dev/null; }
# redis_parts URL: "host port database" (port 6379 and database 0 where the URL does not say).
redis_parts() {
  local url=${1#redis://} host port db=0
  url=${url##*@}
  if [[ "$url" == */* ]]; then
    db=${url#*/}
    db=${db:-0}
    url=${url%%/*}
  fi
  host=${url%%:*}
  port=${url##*:}
  [[ "$port" == "$host" ]] && port=6379
  echo "$host $port $db"
}
redis_answers() {
  local host port db reply
  read -r host port db <<<"$(redis_parts "$(redis_url)")"
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(redis-cli -h "$host" -p "$port" ping 2>/dev/null)" == "PONG" ]]
  else
    reply=$(timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port && printf 'PING\r\n' >&3 && head -c 5 <&3" 2>/dev/null || true)
    [[ "$reply" == "+PONG" ]]
  fi
}

# wait_for NAME PROBE LOGFILE [PID]: bounded wait; names what did not come up and its log.
wait_for() {
  local name=$1 probe=$2 logfile=$3 pid=${4:-} deadline=$((SECONDS + UP_TIMEOUT_S))
  until $probe; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logfile" >&2 2>/dev/null || true
      die "$name exited during start-up; see $logfile"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$logfile" >&2 2>/dev/null || true
      die "$name did not answer within ${UP_TIMEOUT_S}s; see $logfile"
    fi
    sleep 0.5
  done
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile NAME PIDFILE: TERM, wait up to DOWN_TIMEOUT_S, then KILL.
stop_pidfile() {
  local name=$1 pidfile=$2 pid deadline
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + DOWN_TIMEOUT_S))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name did not stop within ${DOWN_TIMEOUT_S}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"; }

# ---------------------------------------------------------------- local secrets (never committed)
ensure_secrets() {
  mkdir -p "$STATE"
  local f=$STATE/secrets.env
  if [[ ! -f "$f" ]]; then
    umask 077
    {
      echo "INTAKE_API_KEY=local-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
      echo "PROVIDER_TOKEN=mock-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
    } >"$f"
  fi
  # The shadow deployment's own credentials (added to a file written before they existed).
  grep -q '^SHADOW_INTAKE_API_KEY=' "$f" ||
    echo "SHADOW_INTAKE_API_KEY=shadow-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" >>"$f"
  grep -q '^SANDBOX_PROVIDER_TOKEN=' "$f" ||
    echo "SANDBOX_PROVIDER_TOKEN=sandbox-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" >>"$f"
}

# ---------------------------------------------------------------- Redis
redis_up() {
  if redis_answers; then
    log "redis: answering at $(redis_url) (using it)"
    return 0
  fi
  need redis-server "install Debian's redis-server, or set REDIS_URL"
  log "redis: starting redis-server on $REDIS_PORT with an append-only file (fsync before each answer)"
  # appendfsync always: a write is on disk before Redis answers, so even a crash of the machine
  # loses no claim or attempt marker (everysec could lose the last second: docs/stack.md).
  mkdir -p "$STATE/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly yes --appendfsync always --dir "$STATE/redis" \
    --pidfile "$STATE/redis.pid" --logfile "$LOGS/redis.log"
  wait_for redis redis_answers "$LOGS/redis.log"
  touch "$STATE/redis.started-by-stack"
}

redis_down() {
  if [[ -f "$STATE/redis.started-by-stack" ]]; then
    stop_pidfile redis "$STATE/redis.pid"
    rm -f "$STATE/redis.started-by-stack"
  fi
}

# ---------------------------------------------------------------- Kafka (KRaft, one node)
kafka_classpath() {
  local cp=$STATE/kafka/classpath.txt pom=$ROOT/stack/kafka/pom.xml
  if [[ ! -s "$cp" || "$pom" -nt "$cp" || "$(cat "$cp.version" 2>/dev/null)" != "$KAFKA_VERSION" ]]; then
    need mvn "install Maven (Debian: maven) or use STACK=docker"
    log "kafka: resolving the broker jars with Maven (first time only)"
    mkdir -p "$STATE/kafka"
    mvn -q -B -f "$pom" dependency:build-classpath -Dkafka.version="$KAFKA_VERSION" -Dmdep.outputFile="$cp" \
      >"$LOGS/kafka-maven.log" 2>&1 ||
      { tail -n 20 "$LOGS/kafka-maven.log" >&2; die "Maven could not resolve Kafka $KAFKA_VERSION; see $LOGS/kafka-maven.log"; }
    echo "$KAFKA_VERSION" >"$cp.version"
  fi
  cat "$cp"
}

# kafka_config NODE: its server.properties. Replication and min ISR follow the node count (one
# place for the broker side; topics the project creates follow the cluster in ensureTopics).
kafka_config() {
  local i=$1 n dir voters="" v rf isr
  n=$(broker_count)
  dir=$(node_dir "$i")
  for ((v = 1; v <= n; v++)); do voters+="${voters:+,}$v@$KAFKA_HOST:$(node_controller_port "$v")"; done
  rf=$((n >= 3 ? 3 : n))
  isr=$((rf >= 3 ? 2 : 1))
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
# Generated by stack/stack.sh; edit the script, not this file.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://$KAFKA_HOST:$(node_port "$i"),CONTROLLER://$KAFKA_HOST:$(node_controller_port "$i")
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$(node_port "$i")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
# Topics are created by the project (ensureTopics), never by a producer or consumer asking.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=67108864
EOF
}

kafka_node_up() {
  local i=$1 cp=$2 cluster_id=$3 dir pidfile logfile
  dir=$(node_dir "$i")
  pidfile=$(node_pidfile "$i")
  logfile=$(node_log "$i")
  pid_alive "$pidfile" && return 0
  kafka_config "$i"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    log "kafka: formatting node $i's storage (cluster $cluster_id)"
    java -cp "$cp" -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.properties" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >>"$logfile" 2>&1 ||
      die "kafka: formatting node $i's storage failed; see $logfile"
  fi
  log "kafka: starting node $i on $KAFKA_HOST:$(node_port "$i") (log: $logfile)"
  nohup java -Xms256m -Xmx${KAFKA_HEAP:-1g} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$dir/server.properties" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# kafka_up [N]: N nodes (default: as the stack already is, else 1). Another size needs a purge first.
kafka_up() {
  local want=${1:-} have
  have=$(broker_count)
  if [[ -n "$want" && "$want" != "$have" ]]; then
    if [[ -d "$STATE/kafka/data" || -d "$STATE/kafka/node1" ]]; then
      die "the stack holds a $have-broker Kafka; ./stack/stack.sh down --purge first, then up --brokers $want"
    fi
    mkdir -p "$STATE/kafka"
    echo "$want" >"$STATE/kafka/brokers"
  fi
  if kafka_answers; then
    log "kafka: answering at $(brokers)"
    return 0
  fi
  need java "install a JDK 17+ or use STACK=docker"
  local cp i n cluster_id
  n=$(broker_count)
  cp=$(kafka_classpath)
  cluster_id=$(cat "$STATE/kafka/cluster-id" 2>/dev/null || true)
  if [[ -z "$cluster_id" ]]; then
    cluster_id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$LOGS/kafka.log" | tail -n 1)
    echo "$cluster_id" >"$STATE/kafka/cluster-id"
  fi
  for ((i = 1; i <= n; i++)); do kafka_node_up "$i" "$cp" "$cluster_id"; done
}

# Every node answers (a node that exits during start-up is named with its log).
kafka_wait() {
  local i
  for ((i = 1; i <= $(broker_count); i++)); do
    wait_for "kafka node $i" kafka_answers "$(node_log "$i")" "$(cat "$(node_pidfile "$i")" 2>/dev/null || true)"
  done
}

kafka_down() {
  local i
  for ((i = 1; i <= $(broker_count); i++)); do stop_pidfile "kafka node $i" "$(node_pidfile "$i")"; done
}

# ---------------------------------------------------------------- Schema registry
# Apicurio Registry cannot be built from what Maven Central serves here (every line tried, with
# the errors, is in docs/stack.md), so locally the registry is the project's own LOCAL-ONLY
# Confluent-compatible subset (stack/registry), whose state lives in the compacted Kafka topic
# `_schemas`: schema ids stay consistent with the records in Kafka across restarts, and
# `down --purge` resets both. docker-compose.yml runs a real Apicurio Registry.
ensure_node_modules() {
  if [[ ! -d "$ROOT/node_modules/kafkajs" ]]; then
    log "installing npm dependencies (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund >"$LOGS/npm-ci.log" 2>&1) ||
      { tail -n 20 "$LOGS/npm-ci.log" >&2; die "npm ci failed; see $LOGS/npm-ci.log"; }
  fi
}

# registry_built LOG: the local registry's entry point, built first when missing or older than its
# sources (the build's output to LOG).
registry_built() {
  ensure_node_modules
  local main=$ROOT/stack/registry/dist/main.js
  if [[ ! -f "$main" ]] || [[ -n "$(find "$ROOT/stack/registry/src" -newer "$main" -print -quit)" ]]; then
    (cd "$ROOT/stack/registry" && npx tsc -p tsconfig.build.json) >>"$1" 2>&1 ||
      die "registry: build failed; see $1"
  fi
  echo "$main"
}

registry_up() {
  if registry_answers; then
    log "registry: answering at $(registry_url)"
    return 0
  fi
  pid_alive "$STATE/registry.pid" && die "registry: process $(cat "$STATE/registry.pid") runs but does not answer; run ./stack/stack.sh down"
  local main
  main=$(registry_built "$LOGS/registry.log")
  log "registry: starting the local-only registry on 127.0.0.1:$REGISTRY_PORT (log: $LOGS/registry.log)"
  KAFKA_BROKERS="$KAFKA_HOST:$KAFKA_PORT" REGISTRY_PORT=$REGISTRY_PORT \
    nohup node "$main" >>"$LOGS/registry.log" 2>&1 </dev/null &
  echo $! >"$STATE/registry.pid"
}

# ---------------------------------------------------------------- the mock and the services (--all)
# name|port|entry point (built JavaScript), from the manifest. Health: GET /healthz on the port.
mapfile -t SERVICES < <(manifest services)

# Second instances (up --all --instances 2): the same five services, same groups, other ports.
# name|port|entry|the variable that sets its port
mapfile -t SECOND_SERVICES < <(manifest second)
instance_count() { cat "$STATE/instances" 2>/dev/null || echo 1; }
second_env() {
  service_env
  local s name port entry var
  for s in "${SECOND_SERVICES[@]}"; do
    IFS='|' read -r name port entry var <<<"$s"
    [[ "$name" == "$1" ]] && export "$var=$port"
  done
  return 0
}

# The shadow deployment (--shadow): the same five services in SHADOW_MODE, and the sandbox mock
# they book at. Production here is the mock on :4010, so that is what the shadow refuses.
mapfile -t SHADOW_SERVICES < <(manifest shadow)
MOCK_PORT_MAIN=$(manifest port provider-mock)
SANDBOX_PORT=$(manifest port sandbox-mock)
SANDBOX_URL=http://127.0.0.1:$SANDBOX_PORT

production_provider_url() { echo "${PROVIDER_URL:-http://127.0.0.1:$MOCK_PORT_MAIN}"; }
# The shadow's Redis: production's server, database 1 (SHADOW_REDIS_URL to choose another).
shadow_redis_url() {
  local host port db
  read -r host port db <<<"$(redis_parts "$(redis_url)")"
  echo "${SHADOW_REDIS_URL:-redis://$host:$port/$((db == 1 ? 2 : 1))}"
}

service_env() {
  # shellcheck disable=SC1091
  source "$STATE/secrets.env"
  export KAFKA_BROKERS SCHEMA_REGISTRY_URL REDIS_URL INTAKE_API_KEY PROVIDER_TOKEN
  KAFKA_BROKERS=$(brokers) SCHEMA_REGISTRY_URL=$(registry_url) REDIS_URL=$(redis_url)
  PROVIDER_URL=$(production_provider_url)
  export PROVIDER_URL
}

shadow_env() {
  service_env
  export SHADOW_MODE=true PRODUCTION_PROVIDER_URL=$PROVIDER_URL PRODUCTION_PROVIDER_TOKEN=$PROVIDER_TOKEN
  export PRODUCTION_REDIS_URL=$REDIS_URL REDIS_URL
  REDIS_URL=$(shadow_redis_url)
  export PROVIDER_URL=$SANDBOX_URL PROVIDER_TOKEN=$SANDBOX_PROVIDER_TOKEN INTAKE_API_KEY=$SHADOW_INTAKE_API_KEY
  local v
  while IFS= read -r v; do export "${v?}"; done < <(manifest shadow-env)
  export AUDIT_LOG_PATH=logs/shadow/audit.jsonl INVARIANTS_REPORT_PATH=results/shadow/invariants.json
  mkdir -p "$ROOT/logs/shadow"
}

# listing NAME|PORT|…: "name :port, name :port" for the log.
listing() {
  local s name port out=()
  for s in "$@"; do
    IFS='|' read -r name port _ <<<"$s"
    out+=("$name :$port")
  done
  (IFS=,; echo "${out[*]}" | sed 's/,/, /g')
}

service_answers() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/healthz" 2>/dev/null; }

# ensure_built NAME|PORT|ENTRY…: build when an entry point is missing.
ensure_built() {
  local missing=0 entry name port
  for s in "$@"; do
    IFS='|' read -r name port entry <<<"$s"
    [[ -f "$ROOT/$entry" ]] || missing=1
  done
  if ((missing)); then
    log "building the services (npm run build)"
    (cd "$ROOT" && npm run -s build >"$LOGS/build.log" 2>&1) || die "build failed; see $LOGS/build.log"
  fi
}

# start_set ENV_FUNCTION NAME|PORT|ENTRY…: start what does not answer, then wait for all of them.
start_set() {
  local envfn=$1 name port entry
  shift
  for s in "$@"; do
    IFS='|' read -r name port entry <<<"$s"
    if service_answers "$port"; then
      log "$name: answering on $port"
      continue
    fi
    if pid_alive "$STATE/$name.pid"; then
      # Running but not healthy (yet): a second copy would only fail on the port in use.
      log "$name: running (pid $(cat "$STATE/$name.pid")), not healthy yet; waiting for it"
      continue
    fi
    log "$name: starting on $port (log: logs/$name.log)"
    # SERVICE_NODE_OPTIONS: node flags for the services only (profiling: --cpu-prof --cpu-prof-dir=DIR).
    # shellcheck disable=SC2086
    (cd "$ROOT" && $envfn "$name" && exec nohup node ${SERVICE_NODE_OPTIONS:-} "$entry" >>"$ROOT/logs/$name.log" 2>&1 </dev/null) &
    echo $! >"$STATE/$name.pid"
  done
  for s in "$@"; do
    IFS='|' read -r name port entry <<<"$s"
    wait_for "$name" "service_answers $port" "$ROOT/logs/$name.log" "$(cat "$STATE/$name.pid" 2>/dev/null || true)"
  done
}

services_up() {
  ensure_node_modules
  ensure_built "${SERVICES[@]}"
  (cd "$ROOT" && service_env && node packages/kit/dist/bin/bootstrap.js >/dev/null 2>>"$LOGS/bootstrap.log") ||
    die "creating topics / registering schemas failed; see $LOGS/bootstrap.log"
  if ! service_answers "$MOCK_PORT_MAIN" && [[ "$(production_provider_url)" == "http://127.0.0.1:$MOCK_PORT_MAIN" ]]; then
    # A new mock is a provider with an empty memory: the pipeline's local state (status projection,
    # idempotency claims, locks) about bookings it no longer holds would only be noise. Local only.
    reset_local_state "$(redis_url)"
  fi
  start_set service_env "${SERVICES[@]}"
  if (($(instance_count) == 2)); then
    local second=() x
    for x in "${SECOND_SERVICES[@]}"; do second+=("${x%|*}"); done
    start_set second_env "${second[@]}"
  fi
}

shadow_up() {
  ensure_node_modules
  ensure_built "${SHADOW_SERVICES[@]}"
  (cd "$ROOT" && shadow_env && node packages/kit/dist/bin/bootstrap.js >/dev/null 2>>"$LOGS/bootstrap.log") ||
    die "creating the .shadow topics failed; see $LOGS/bootstrap.log"
  # A new sandbox: the shadow's own local state goes with it (its Redis database only).
  service_answers "$SANDBOX_PORT" || reset_local_state "$(shadow_redis_url)" logs/shadow/audit.jsonl
  start_set shadow_env "${SHADOW_SERVICES[@]}"
}

# reset_local_state REDIS_URL [AUDIT_LOG]: the pipeline's keys in that Redis database, and its audit log.
reset_local_state() {
  local host port db pattern n=0 audit=$ROOT/${2:-logs/audit.jsonl}
  read -r host port db <<<"$(redis_parts "$1")"
  command -v redis-cli >/dev/null 2>&1 || return 0
  local cli=(redis-cli -h "$host" -p "$port" -n "$db")
  for pattern in 'apt:*' 'idem:*' 'lock:*'; do
    n=$((n + $("${cli[@]}" --scan --pattern "$pattern" | wc -l)))
    "${cli[@]}" --scan --pattern "$pattern" | xargs -r -n 1000 "${cli[@]}" unlink >/dev/null
  done
  [[ -f "$audit" ]] && mv "$audit" "${audit%.jsonl}.$(date +%Y%m%dT%H%M%S).jsonl"
  log "new provider mock: cleared $n keys of local state in Redis database $db"
}

services_down() {
  local name port entry i all=("${SERVICES[@]}" "${SECOND_SERVICES[@]}" "${SHADOW_SERVICES[@]}")
  for ((i = ${#all[@]} - 1; i >= 0; i--)); do
    IFS='|' read -r name port entry <<<"${all[$i]}"
    stop_pidfile "$name" "$STATE/$name.pid"
  done
}

# ---------------------------------------------------------------- Docker (for users who have it)
docker_up() {
  need docker "STACK=docker needs the Docker CLI"
  docker info >/dev/null 2>&1 || die "STACK=docker: no Docker engine answers (docker info failed)"
  docker compose -f "$ROOT/docker-compose.yml" up -d --wait kafka registry redis
}

# ---------------------------------------------------------------- commands
cmd_up() {
  local all=0 shadow=0 restart=0 secure=0 brokers_wanted="" instances_wanted=""
  while (($#)); do
    case "$1" in
      --brokers)
        [[ "${2:-}" == 1 || "${2:-}" == 3 ]] || { echo "up: --brokers takes 1 or 3" >&2; exit 2; }
        brokers_wanted=$2
        shift
        ;;
      --instances)
        [[ "${2:-}" == 1 || "${2:-}" == 2 ]] || { echo "up: --instances takes 1 or 2" >&2; exit 2; }
        instances_wanted=$2
        shift
        ;;
      --all) all=1 ;;
      --shadow) shadow=1 ;;
      --restart) restart=1 ;;
      --secure) secure=1 ;;
      *) echo "up: unknown option $1 (--brokers N, --all, --instances N, --shadow, --secure, --restart)" >&2; exit 2 ;;
    esac
    shift
  done
  mkdir -p "$STATE" "$LOGS"
  ensure_secrets
  if ((secure)); then
    # The secured stack stands beside the plain one (other ports, other data): nothing else starts.
    secure_up
    return 0
  fi
  if [[ -n "$instances_wanted" ]]; then
    echo "$instances_wanted" >"$STATE/instances"
    if ((instances_wanted == 1)); then
      local x
      for x in "${SECOND_SERVICES[@]}"; do stop_pidfile "${x%%|*}" "$STATE/${x%%|*}.pid"; done
    fi
  fi
  local t0=$SECONDS
  if external_cluster; then
    log "KAFKA_BROKERS/SCHEMA_REGISTRY_URL/REDIS_URL set: using that cluster, starting nothing"
  elif [[ "${STACK:-local}" == docker ]]; then
    docker_up
  else
    need node "Node.js 20+ is required"
    need curl "install curl"
    redis_up
    kafka_up "$brokers_wanted"
    kafka_wait
    registry_up
    wait_for registry registry_answers "$LOGS/registry.log" "$(cat "$STATE/registry.pid" 2>/dev/null || true)"
  fi
  wait_for kafka kafka_answers "$LOGS/kafka.log"
  wait_for registry registry_answers "$LOGS/registry.log"
  wait_for redis redis_answers "$LOGS/redis.log"
  log "up in $((SECONDS - t0))s: kafka $(brokers), registry $(registry_url), redis $(redis_url)"
  if ((restart)); then
    # Run the code just built, not whatever an earlier `up --all` left running. The mocks restart
    # too: new, empty providers, so the pipeline's local state is reset with them (below).
    services_down
  fi
  if ((all)); then
    services_up
    log "all up in $((SECONDS - t0))s: $(listing "${SERVICES[@]}")$( (($(instance_count) == 2)) && echo "; second instances: $(listing "${SECOND_SERVICES[@]}")")"
  fi
  if ((shadow)); then
    shadow_up
    log "shadow up in $((SECONDS - t0))s: $(listing "${SHADOW_SERVICES[@]}"), Redis $(shadow_redis_url)"
  fi
}

cmd_status() {
  local ok=0
  if kafka_answers; then log "kafka     up    $(brokers)"; else log "kafka     DOWN  $(brokers) (log: $LOGS/kafka.log)"; ok=1; fi
  if registry_answers; then log "registry  up    $(registry_url)"; else log "registry  DOWN  $(registry_url) (log: $LOGS/registry.log)"; ok=1; fi
  if redis_answers; then log "redis     up    $(redis_url)"; else log "redis     DOWN  $(redis_url)"; ok=1; fi
  local name port entry how
  for s in "${SERVICES[@]}" "${SECOND_SERVICES[@]}" "${SHADOW_SERVICES[@]}"; do
    IFS='|' read -r name port entry <<<"$s"
    how="up --all"
    printf '%s\n' "${SHADOW_SERVICES[@]}" | grep -q "^$name|" && how="up --shadow"
    [[ "$name" == *-2 ]] && how="up --all --instances 2"
    if service_answers "$port"; then log "$(printf '%-25s' "$name") up    :$port"
    elif pid_alive "$STATE/$name.pid"; then log "$(printf '%-25s' "$name") DOWN  :$port (running, not healthy; log: logs/$name.log)"; ok=1
    else log "$(printf '%-25s' "$name") off   (./stack/stack.sh $how starts it)"; fi
  done
  return $ok
}

cmd_down() {
  services_down
  secure_down
  rm -f "$STATE/instances"
  if external_cluster; then
    log "external cluster in use: nothing of ours to stop"
    return 0
  fi
  if [[ "${STACK:-local}" == docker ]]; then
    docker compose -f "$ROOT/docker-compose.yml" down
    return 0
  fi
  stop_pidfile registry "$STATE/registry.pid"
  kafka_down
  redis_down
  if [[ "${1:-}" == "--purge" ]]; then
    log "purging Kafka's data (every node) and $STATE/redis"
    rm -rf "$STATE/kafka/data" "$STATE/kafka"/node* "$STATE/kafka/brokers" "$STATE/kafka/cluster-id" "$STATE/redis"
  fi
}

cmd_env() {
  if [[ "${1:-}" == --secure ]]; then
    secure_env | sed 's/^/export /'
    return 0
  fi
  ensure_secrets
  # `export` lines: after `eval "$(./stack/stack.sh env)"` the tools started from that shell
  # (npm run fuzz, chaos, dlt, bench) see them too, not only the shell itself.
  {
    echo "KAFKA_BROKERS=$(brokers)"
    echo "SCHEMA_REGISTRY_URL=$(registry_url)"
    echo "REDIS_URL=$(redis_url)"
    echo "PROVIDER_URL=$(production_provider_url)"
    echo "SHADOW_INTAKE_URL=http://127.0.0.1:$(manifest port shadow-intake)"
    echo "SANDBOX_PROVIDER_URL=$SANDBOX_URL"
    echo "SHADOW_REDIS_URL=$(shadow_redis_url)"
    cat "$STATE/secrets.env"
  } | sed 's/^/export /'
}

# shellcheck source=stack/secure.sh
source "$ROOT/stack/secure.sh"

# Sourced (tests, debugging): define the functions only.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  status) cmd_status ;;
  down) shift; cmd_down "$@" ;;
  env) shift; cmd_env "$@" ;;
  *) echo "usage: $0 up [--brokers 1|3] [--all] [--shadow] [--secure] [--restart] | status | down [--purge] | env [--secure]" >&2; exit 2 ;;
esac
