// Adds up vitest JSON reports and pytest JUnit XML into the plain closing line CI reads.
import fs from 'node:fs';

let passed = 0, failed = 0, skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) { console.error(`missing report ${file}: that suite did not run`); failed++; continue; }
  if (file.endsWith('.xml')) {
    // pytest's <testsuite tests= failures= errors= skipped=>
    const suite = /<testsuite\b[^>]*>/.exec(fs.readFileSync(file, 'utf8'))?.[0] ?? '';
    const n = (k) => Number(new RegExp(`\\b${k}="(\\d+)"`).exec(suite)?.[1] ?? 0);
    const bad = n('failures') + n('errors');
    passed += n('tests') - bad - n('skipped');
    failed += bad;
    skipped += n('skipped');
    continue;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  // A file that fails to load has no failed tests of its own: count it once.
  failed += r.numFailedTests || r.numFailedTestSuites || 0;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
