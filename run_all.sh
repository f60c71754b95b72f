#!/usr/bin/env bash
# The main job: install, build, bring up the real stack and every service, then run Project A (the
# legacy reconstruction) and Project B (the pipeline) over the same cases and write results/,
# logs/log_pre.txt, logs/log_post.txt and compare_report.md (docs/comparison.md).
#   ./run_all.sh [--data FILE] [--load N] [more booking-compare options: --help lists them]
# Exit 0 only if every Project B case matches its expectation.
set -euo pipefail
cd "$(dirname "$0")"

args=("$@")
while (($#)); do
  case "$1" in
    --data)
      [[ -f "${2:-}" ]] || { echo "run_all.sh: --data: no such file: ${2:-}" >&2; exit 2; }
      shift 2 ;;
    --load)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "run_all.sh: --load: a whole number, got '${2:-}'" >&2; exit 2; }
      shift 2 ;;
    *) shift ;;
  esac
done

source scripts/common.sh
mkdir -p results logs
export TIMING_FILE=results/.timing-setup.tsv
: >"$TIMING_FILE"
timed() {
  local name=$1 t=$SECONDS
  shift
  "$@"
  echo "$name $((SECONDS - t))" >>"$TIMING_FILE"
}

step "install (npm ci)"
timed install npm ci --no-audit --no-fund
step "build"
timed build npm run -s build
timed stack stack_up_and_bootstrap
step "provider mock and services"
timed services ./stack/stack.sh up --all --restart
if [[ -z "${INTAKE_API_KEY:-}" || -z "${PROVIDER_TOKEN:-}" ]]; then
  set -a
  eval "$(./stack/stack.sh env)"
  set +a
fi

step "Project A (legacy) then Project B (pipeline)"
set +e
node tools/compare/dist/cli.js "${args[@]}"
status=$?
set -e

step "reconciliation: pipeline states against the provider"
PROVIDER_LEDGER_URL="$PROVIDER_URL/__mock/ledger" npm run -s check:invariants -- --out results/reconciliation.json >/dev/null &&
  echo "results/reconciliation.json: every invariant holds" ||
  echo "results/reconciliation.json: an invariant does not hold (see the file)"

cat <<MSG

Read compare_report.md first; results/ and logs/log_pre.txt, logs/log_post.txt hold the detail.
The stack and services stay up (./stack/stack.sh status); ./stack/stack.sh down stops them.
MSG
printf 'done in %ss, exit %s\n' "$((SECONDS - T0))" "$status"
exit "$status"
