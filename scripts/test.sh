#!/usr/bin/env bash
# The whole test suite: quality gates, then pytest with the services its tests need
# (a throwaway PostgreSQL and a private CUPS server), which are ended on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$PATH
export QT_QPA_PLATFORM=offscreen

echo "== ruff check";          ruff check .
echo "== ruff format --check"; ruff format --check .
echo "== mypy --strict app printing ui"; mypy
echo "== import contracts";    lint-imports

SERVICES=$(mktemp -d /tmp/waystation-services.XXXXXX)
cleanup() {
    for stop in "$ROOT"/scripts/services/*.sh; do bash "$stop" stop "$SERVICES" || true; done
    rm -rf "$SERVICES"
}
trap cleanup EXIT
for start in "$ROOT"/scripts/services/*.sh; do
    # Each service script prints the environment variables that reach it (KEY=VALUE lines).
    while IFS= read -r line; do export "${line?}"; done < <(bash "$start" start "$SERVICES")
done

echo "== pytest"
mkdir -p test-artifacts
python -m pytest "$@"
