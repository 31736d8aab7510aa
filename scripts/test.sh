#!/usr/bin/env bash
# Type-checking and the import boundary, unit + fuzz (vitest), model tests (pytest), then browser end-to-end
# (vitest + playwright-core), then one closing line that adds them all up.
set -uo pipefail
cd "$(dirname "$0")/.."
reports=$(mktemp -d)
rc=0
# The whole workspace type-checks (tsc -b over the root tsconfig.json's references, svelte-check for the client); one test in the closing line.
pnpm typecheck && t=0 || { t=1; rc=1; }; echo "<testsuite name=\"typecheck\" tests=\"1\" failures=\"$t\"/>" >"$reports/typecheck.xml"
# No package imports another's files by relative path (.dependency-cruiser.cjs); counted as one test in the closing line.
pnpm exec depcruise --config .dependency-cruiser.cjs client server shared face e2e scripts models && b=0 || { b=1; rc=1; }; echo "<testsuite name=\"import boundary\" tests=\"1\" failures=\"$b\"/>" >"$reports/boundary.xml"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$reports/unit.json" || rc=1
python=$(bash models/setup.sh | tail -n 1)
(cd models && "$python" -m pytest -q tests --junitxml="$reports/models.xml") || rc=1
pnpm --filter @guise/e2e exec vitest run --config vitest.config.ts --reporter=default --reporter=json --outputFile.json="$reports/e2e.json" || rc=1
node scripts/summarize-tests.mjs "$reports/typecheck.xml" "$reports/boundary.xml" "$reports/unit.json" "$reports/models.xml" "$reports/e2e.json" || rc=1
exit $rc
