#!/usr/bin/env bash
# `npm test`: install missing Debian test dependencies, then run the whole vitest suite.
# Extra arguments go to vitest (e.g. `npm test -- tests/fixtures`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
# PostgreSQL is installed above: its server tests must run, never skip.
export SIDIAN_REQUIRE_POSTGRES=1
npx vitest run "$@"
# Timing-bound tests, alone on the machine.
if [ $# -eq 0 ]; then npx vitest run --config vitest.isolated.config.ts; fi
npm run test:browser
# End to end, on a fresh build: the demo flow, the embedding examples and Storybook, in Chromium.
npm run build
npx vitest run --config tests/e2e/vitest.config.ts
