// Reads the output of a uvu process (scripts/run-tests.mjs): one test file
// run alone, or a group of files run by scripts/run-test-group.mjs, where
// each file's results follow a line that is its name.
//
// uvu ends with its totals ("Total: N", "Passed: N", "Skipped: N",
// "Duration: ..."); each failed test has a heading "FAIL  suite  "name"".
// The tests of test/requirements.ts print "skip: FILE needs WHAT (HOW)".

/**
 * @param {string} output the process's stdout and stderr, in arrival order
 * @param {{ files: string[], code: number, signal?: string | null }} run the files (their names in the checkout) and how the process ended
 * @returns {{ passed: number, failed: number, skipped: number, skips: string[], output: string, failures: string[] }}
 */
export function parseUvuOutput(output, { files, code, signal = null }) {
  const count = (label) => Number(output.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
  const summarized = /^\s*Total:\s+\d+/m.test(output);
  const passed = count('Passed');
  const skipped = count('Skipped');
  let failed = count('Total') - passed;
  // A crash before uvu's summary (an import error, a signal) or a bad exit is a failure too.
  if ((!summarized || code !== 0 || signal) && failed === 0) failed = 1;
  // uvu's own totals are left out: the runner prints its own line.
  const shown = output.replace(/\n\s*Total:\s+\d+\n\s*Passed:.*\n\s*Skipped:.*\n\s*Duration:.*\n*/, '\n').trim();
  const skips = output.split('\n').filter((line) => line.startsWith('skip: '));
  return { passed, failed, skipped, skips, output: shown, failures: failedTestNames(output, files) };
}

/**
 * uvu's failure headings, for the closing list; in a group's output, each
 * after the line naming its file, so named with it.
 */
function failedTestNames(output, files) {
  let file = null;
  const names = [];
  for (const line of output.split('\n')) {
    if (files.length > 1 && files.includes(line.trim())) file = line.trim();
    else if (/^\s*FAIL\s/.test(line)) names.push(`${file ? `${file}: ` : ''}${line.trim().replace(/^FAIL\s+/, '')}`);
  }
  return names;
}
