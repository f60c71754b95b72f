#!/usr/bin/env bash
# The tests, as CI runs them: install, build, bring the real stack up if it is not, then
# typecheck, lint, unit tests and integration tests. Exits non-zero on any failure.
# Uses an existing cluster when KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL are set.
set -euo pipefail
cd "$(dirname "$0")"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 KAFKAJS_NO_PARTITIONER_WARNING=1

REPORTS=results/tests
T0=$SECONDS
step() { printf '\n==> %s  (+%ss)\n' "$*" "$((SECONDS - T0))"; }

step "install (npm ci)"
npm ci --no-audit --no-fund

step "build"
npm run -s build

step "stack"
./stack/stack.sh up
if [[ -z "${KAFKA_BROKERS:-}${SCHEMA_REGISTRY_URL:-}${REDIS_URL:-}" ]]; then
  set -a
  eval "$(./stack/stack.sh env)"
  set +a
fi
npm run -s bootstrap >/dev/null

step "typecheck"
npm run -s typecheck

step "lint"
npm run -s lint

rm -rf "$REPORTS"
mkdir -p "$REPORTS"
status=0
run_suite() { # name dir
  npx vitest run --root "$2" --reporter=default --reporter=json --outputFile="$PWD/$REPORTS/$1.json" || status=1
}

step "unit tests"
run_suite kit packages/kit
run_suite local-registry stack/registry

step "integration tests (real Kafka, registry, Redis)"
run_suite integration tests

step "summary"
node scripts/test-summary.mjs "$REPORTS"
printf 'total time %ss\n' "$((SECONDS - T0))"
exit $status
