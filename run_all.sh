#!/usr/bin/env bash
# The main job: install, build, bring up the real stack and every service, then run Project A (the
# legacy reconstruction) and Project B (the pipeline) over the same cases and write results/,
# logs/log_pre.txt, logs/log_post.txt and compare_report.md (docs/comparison.md). Then the shadow
# comparison: the legacy again, through the mirror that copies each booking to the pipeline's shadow
# deployment (results/shadow_report.json); --no-shadow leaves it out.
#   ./run_all.sh [--data FILE] [--load N] [--no-shadow] [more booking-compare options: --help lists them]
# Exit 0 only if every Project B case matches its expectation.
set -euo pipefail
cd "$(dirname "$0")"

args=()
shadow=1
for a in "$@"; do
  case "$a" in
    --no-shadow) shadow=0 ;;
    --shadow) ;;
    *) args+=("$a") ;;
  esac
done
((shadow)) && args+=(--shadow)
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

ensure_native_build_deps
export CKJS_LINKING=${CKJS_LINKING:-dynamic}
if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node_api.h ]]; then export npm_config_nodedir=/usr; fi
step "install (npm ci)"
timed install npm ci --no-audit --no-fund
step "build"
timed build npm run -s build
timed stack stack_up_and_bootstrap
if ((shadow)); then
  step "provider mock and services, and the shadow deployment (sandbox mock and services in SHADOW_MODE)"
  timed services ./stack/stack.sh up --all --shadow --restart
else
  step "provider mock and services"
  timed services ./stack/stack.sh up --all --restart
fi
if [[ -z "${INTAKE_API_KEY:-}" || -z "${PROVIDER_TOKEN:-}" || -z "${SHADOW_INTAKE_API_KEY:-}" || -z "${SHADOW_REDIS_URL:-}" ]]; then
  set -a
  eval "$(./stack/stack.sh env)"
  set +a
fi

step "Project A (legacy) then Project B (pipeline)$( ((shadow)) && echo ', then the legacy through the mirror with the shadow')"
set +e
node tools/compare/dist/cli.js "${args[@]}"
status=$?
set -e

step "invariants: pipeline states against the provider"
# --acks: every id Project B's clients were answered 202 for must exist on the topics (issue 20);
# --claims: the same for every acceptance intake's own claims record.
PROVIDER_LEDGER_URL="$PROVIDER_URL/__mock/ledger" npm run -s check:invariants -- --out results/invariants.json \
  --acks results/acks_post.json --claims >/dev/null &&
  echo "results/invariants.json: every invariant holds" ||
  echo "results/invariants.json: an invariant does not hold (see the file)"
if ((shadow)); then
  # The shadow deployment's own appointments against its sandbox: the same invariants.
  REDIS_URL=$SHADOW_REDIS_URL PROVIDER_URL=$SANDBOX_PROVIDER_URL PROVIDER_TOKEN=$SANDBOX_PROVIDER_TOKEN \
    AUDIT_LOG_PATH=logs/shadow/audit.jsonl PROVIDER_LEDGER_URL="$SANDBOX_PROVIDER_URL/__mock/ledger" \
    npm run -s check:invariants -- --out results/shadow_invariants.json >/dev/null &&
    echo "results/shadow_invariants.json: every invariant holds in the shadow deployment" ||
    echo "results/shadow_invariants.json: an invariant does not hold in the shadow deployment (see the file)"
fi

cat <<MSG

Read compare_report.md first; results/ and logs/log_pre.txt, logs/log_post.txt hold the detail.
The stack and services stay up (./stack/stack.sh status); ./stack/stack.sh down stops them.
MSG
printf 'done in %ss, exit %s\n' "$((SECONDS - T0))" "$status"
exit "$status"
