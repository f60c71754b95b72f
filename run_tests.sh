#!/usr/bin/env bash
# The tests, as CI runs them: install, build, bring the real stack up if it is not, then
# typecheck, lint, unit tests and integration tests. Exits non-zero on any failure.
# Uses an existing cluster when KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL are set.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/common.sh
REPORTS=results/tests

install_and_build
ensure_chromium
ensure_kcat
ensure_docker_compose
stack_up_and_bootstrap

step "typecheck"
npm run -s typecheck

step "lint"
npm run -s lint

step "schema evolution (schemas/avro against schemas/released)"
npm run -s check:schemas

rm -rf "$REPORTS"
mkdir -p "$REPORTS"
status=0
run_suite() { # name dir
  npx vitest run --root "$2" --reporter=default --reporter=json --outputFile="$PWD/$REPORTS/$1.json" || status=1
}

step "unit tests"
run_suite kit packages/kit
run_suite local-registry stack/registry
run_suite provider-mock mocks/provider
run_suite intake services/intake
run_suite provider-dispatch services/provider-dispatch
run_suite compensation services/compensation
run_suite compare tools/compare
run_suite cutover tools/cutover
run_suite lag services/lag
run_suite dlt tools/dlt
run_suite bench tools/bench
run_suite chaos tools/chaos
run_suite fuzz tools/fuzz

step "integration tests (real Kafka, registry, Redis)"
rm -rf logs/tests
run_suite integration tests

# Kills the shared broker: alone, after every test that needs it up (issue 20).
step "broker restarts under load (serial)"
npx vitest run --root tests --config vitest.faults.config.ts --reporter=default --reporter=json \
  --outputFile="$PWD/$REPORTS/faults.json" || status=1

step "after the suite: no PII in any log file or audit trail"
npx vitest run --root tests --config vitest.after.config.ts --reporter=default --reporter=json \
  --outputFile="$PWD/$REPORTS/pii-scan.json" || status=1


step "summary"
node scripts/test-summary.mjs "$REPORTS"
printf 'total time %ss\n' "$((SECONDS - T0))"
exit $status
