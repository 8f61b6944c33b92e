// Counts test results in the output of `ctest -V` (scripts/run-tests.mjs).
//
// ctest -V prefixes each test's output with "N: " (its number) and ends each
// test with a status line "k/n Test #N: NAME ....   Passed   0.01 sec". For a
// test whose output has cmocka's closing summary (one per group run):
//
//   [  PASSED  ] 3 test(s).
//   [  FAILED  ] 1 test(s), listed below:      then "[  FAILED  ] name" per test
//   [  SKIPPED ] 1 test(s), listed below:      then "[  SKIPPED ] name" per test
//
// the summaries count; their "listed below" lines name the tests. A test
// without a summary (not cmocka, or it crashed midway) counts its "[       OK ]"
// lines as passed and itself once by its ctest status: Passed, Skipped or
// Not Run (disabled) as such, anything else as failed.

/** @returns {{ tests: number, passed: number, failed: number, skipped: number, failures: string[], skippedNames: string[] }} */
export function parseCtestOutput(output) {
  const lines = output.split('\n');
  const byTest = new Map();
  const statuses = new Map();
  for (const line of lines) {
    const status = line.match(/^\s*\d+\/\d+\s+Test\s+#(\d+):\s+(\S+)\s+\.*\s*(.*?)\s+[\d.]+\s+sec\s*$/);
    if (status) {
      statuses.set(status[1], { name: status[2], status: status[3].replace(/^\*+/, '').trim() });
      continue;
    }
    const prefixed = line.match(/^(\d+): (.*)$/);
    if (prefixed) {
      if (!byTest.has(prefixed[1])) byTest.set(prefixed[1], []);
      byTest.get(prefixed[1]).push(prefixed[2]);
    }
  }

  const result = { tests: statuses.size, passed: 0, failed: 0, skipped: 0, failures: [], skippedNames: [] };
  for (const [number, { name, status }] of statuses) {
    const own = byTest.get(number) ?? [];
    let summaries = 0;
    let failedHere = 0;
    let listing = null;
    for (const line of own) {
      const summary = line.match(/^\[\s*(PASSED|FAILED|SKIPPED)\s*\]\s+(\d+)\s+test\(s\)/);
      if (summary) {
        summaries++;
        const n = Number(summary[2]);
        if (summary[1] === 'PASSED') result.passed += n;
        else if (summary[1] === 'SKIPPED') result.skipped += n;
        else {
          result.failed += n;
          failedHere += n;
        }
        listing = summary[1] === 'PASSED' ? null : summary[1];
        continue;
      }
      const listed = listing && line.match(/^\[\s*(FAILED|SKIPPED)\s*\]\s+(\S.*)$/);
      if (listed && listed[1] === listing) {
        (listing === 'FAILED' ? result.failures : result.skippedNames).push(`${name}: ${listed[2].trim()}`);
      } else listing = null;
    }
    const ok = status === 'Passed';
    const skippedStatus = status === 'Skipped' || status.startsWith('Not Run') || status === 'Disabled';
    if (summaries === 0) {
      const passedLines = own.filter((line) => /^\[\s*OK\s*\]/.test(line)).length;
      if (ok) result.passed += Math.max(1, passedLines);
      else if (skippedStatus) {
        result.skipped += 1;
        result.skippedNames.push(`${name} (ctest: ${status})`);
      } else {
        result.passed += passedLines;
        result.failed += 1;
        result.failures.push(`${name} (ctest: ${status || 'failed'})`);
      }
    } else if (!ok && !skippedStatus && failedHere === 0) {
      // cmocka said all passed but the program failed afterwards (a sanitizer at exit, a crash).
      result.failed += 1;
      result.failures.push(`${name} (ctest: ${status || 'failed'} after its tests passed)`);
    }
  }
  return result;
}
