# Shared by run_tests.sh and run_all.sh (sourced): progress lines, install, build, and the stack
# with its variables exported. Uses an existing cluster when KAFKA_BROKERS/… are already set.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 KAFKAJS_NO_PARTITIONER_WARNING=1
T0=$SECONDS
step() { printf '\n==> %s  (+%ss)\n' "$*" "$((SECONDS - T0))"; }

# @confluentinc/kafka-javascript (issue 28) builds librdkafka from the sources in its npm package:
# no prebuilt binary can be downloaded here, and the static build fetches OpenSSL and zlib itself.
# Linked dynamically against Debian's libraries instead (zstd for upstream producers that compress
# with it, SASL for SCRAM/GSSAPI), with Node's own headers: about 2 minutes on 2 cores.
ensure_native_build_deps() {
  local missing=()
  for p in libssl-dev zlib1g-dev libzstd-dev libsasl2-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  step "build dependencies of librdkafka (Debian packages: ${missing[*]})"
  apt_install "${missing[@]}" || true
  for p in "${missing[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || { echo "librdkafka's build needs the Debian package $p (apt-get install $p)" >&2; return 1; }
  done
}

install_and_build() {
  ensure_native_build_deps
  export CKJS_LINKING=${CKJS_LINKING:-dynamic}
  if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node_api.h ]]; then export npm_config_nodedir=/usr; fi
  step "install (npm ci)"
  npm ci --no-audit --no-fund
  step "build"
  npm run -s build
}

# Brings the stack up, exports its variables, creates the topics and registers the schemas.
stack_up_and_bootstrap() {
  step "stack (Kafka, schema registry, Redis)"
  ./stack/stack.sh up
  if [[ -z "${KAFKA_BROKERS:-}${SCHEMA_REGISTRY_URL:-}${REDIS_URL:-}" ]]; then
    set -a
    eval "$(./stack/stack.sh env)"
    set +a
  fi
  step "topics and schemas"
  npm run -s bootstrap 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const r = JSON.parse(s);
      console.log(`topics: ${r.topics.created.length} created, ${r.topics.existing.length} already there; subjects registered: ${r.subjects.length}`);
    });'
}

# apt_install PKG...: Debian packages, as root, with one `apt-get update` only if the first try fails.
apt_install() {
  command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] || return 0
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# ensure_tool BIN PACKAGE VARIABLE WHAT: BIN executable, else PACKAGE installed, else a clear failure.
ensure_tool() {
  local bin=$1 pkg=$2 var=$3 what=$4
  [[ -x "$bin" ]] && return 0
  step "$pkg for $what (Debian package)"
  apt_install "$pkg" || true
  [[ -x "$bin" ]] || { echo "$pkg is needed at $bin (set $var); install the $pkg package" >&2; return 1; }
}

# Debian's docker-compose (1.29): the compose file's test runs `docker-compose config`, which needs
# no Docker engine.
ensure_docker_compose() { ensure_tool "${DOCKER_COMPOSE:-/usr/bin/docker-compose}" docker-compose DOCKER_COMPOSE "the compose file's test"; }

# kcat (Debian's, on librdkafka): the compressed-records tests and the fuzz harness write batches
# with it as an upstream producer would (snappy, lz4, zstd), not with the project's own client.
ensure_kcat() { ensure_tool "${KCAT_PATH:-/usr/bin/kcat}" kcat KCAT_PATH "the compressed-records tests"; }

# The lag page's browser test drives Debian's Chromium (playwright-core with executablePath). A fresh
# machine of this kind does not have it: install it from Debian's packages when we can.
ensure_chromium() { ensure_tool "${CHROMIUM_PATH:-/usr/bin/chromium}" chromium CHROMIUM_PATH "the page test"; }
