# Shared by run_tests.sh and run_all.sh (sourced): progress lines, install, build, and the stack
# with its variables exported. Uses an existing cluster when KAFKA_BROKERS/… are already set.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 KAFKAJS_NO_PARTITIONER_WARNING=1
T0=$SECONDS
step() { printf '\n==> %s  (+%ss)\n' "$*" "$((SECONDS - T0))"; }

install_and_build() {
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
