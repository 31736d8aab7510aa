#!/usr/bin/env bash
# Unit + fuzz (vitest), model tests (pytest), then browser end-to-end
# (vitest + playwright-core), then one closing line that adds them all up.
set -uo pipefail
cd "$(dirname "$0")/.."
reports=$(mktemp -d)
rc=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$reports/unit.json" || rc=1
python=$(bash models/setup.sh | tail -n 1)
(cd models && "$python" -m pytest -q tests --junitxml="$reports/models.xml") || rc=1
pnpm --filter @guise/e2e exec vitest run --config vitest.config.ts --reporter=default --reporter=json --outputFile.json="$reports/e2e.json" || rc=1
node scripts/summarize-tests.mjs "$reports/unit.json" "$reports/models.xml" "$reports/e2e.json" || rc=1
exit $rc
