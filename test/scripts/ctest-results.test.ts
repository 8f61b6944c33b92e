// scripts/ctest-results.mjs counts cmocka's results in `ctest -V` output: on
// a canned transcript, and on a tiny CMake project built in a temp dir (pass,
// fail, skip, two groups in one program, a crash midway, a plain exit-77 skip).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCtestOutput } from '../../scripts/ctest-results.mjs';
import { C_TOOLCHAIN, requiring } from '../requirements.ts';

const transcript = `test 1
    Start 1: mixed

1: [==========] Running 3 test(s).
1: [ RUN      ] test_ok
1: [       OK ] test_ok
1: [ RUN      ] test_fail
1: [  FAILED  ] test_fail
1: [ RUN      ] test_skip
1: [  SKIPPED ] test_skip
1: [==========] 3 test(s) run.
1: [  PASSED  ] 1 test(s).
1: [  SKIPPED ] 1 test(s), listed below:
1: [  SKIPPED ] test_skip
1: 
1:  1 SKIPPED TEST(S)
1: [  FAILED  ] 1 test(s), listed below:
1: [  FAILED  ] test_fail
1: 
1:  1 FAILED TEST(S)
1/2 Test #1: mixed ............................***Failed    0.01 sec
[  FAILED  ] 1 test(s), listed below:
[  FAILED  ] test_fail
test 2
    Start 2: qemu
2: no qemu-system-arm
2/2 Test #2: qemu .............................***Skipped   0.01 sec
`;

test('a transcript: cmocka summaries count, the repeated --output-on-failure copy does not, exit 77 is a skip', () => {
  const r = parseCtestOutput(transcript);
  assert.equal([r.tests, r.passed, r.failed, r.skipped], [2, 1, 1, 2]);
  assert.equal(r.failures, ['mixed: test_fail']);
  assert.equal(r.skippedNames, ['mixed: test_skip', 'qemu (ctest: Skipped)']);
});

const header = '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <unistd.h>\n#include <cmocka.h>\n';
const sources: Record<string, string> = {
  'CMakeLists.txt': `cmake_minimum_required(VERSION 3.20)
project(fake C)
find_package(PkgConfig REQUIRED)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
enable_testing()
foreach(t mixed groups crash)
  add_executable(\${t} \${t}.c)
  target_link_libraries(\${t} PRIVATE PkgConfig::CMOCKA)
  add_test(NAME \${t} COMMAND \${t})
endforeach()
add_test(NAME plain_skip COMMAND sh -c "exit 77")
set_tests_properties(plain_skip PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME plain_pass COMMAND sh -c "exit 0")
`,
  'mixed.c': `${header}
static void test_ok(void **s) { (void)s; assert_int_equal(1, 1); }
static void test_fail(void **s) { (void)s; assert_int_equal(1, 2); }
static void test_skip(void **s) { (void)s; skip(); }
int main(void) { const struct CMUnitTest t[] = { cmocka_unit_test(test_ok), cmocka_unit_test(test_fail), cmocka_unit_test(test_skip) }; return cmocka_run_group_tests(t, NULL, NULL); }
`,
  'groups.c': `${header}
static void test_a(void **s) { (void)s; }
static void test_b(void **s) { (void)s; }
static void test_c(void **s) { (void)s; }
int main(void) {
  const struct CMUnitTest g1[] = { cmocka_unit_test(test_a), cmocka_unit_test(test_b) };
  const struct CMUnitTest g2[] = { cmocka_unit_test(test_c) };
  return cmocka_run_group_tests_name("first", g1, NULL, NULL) | cmocka_run_group_tests_name("second", g2, NULL, NULL);
}
`,
  'crash.c': `${header}
static void test_ok(void **s) { (void)s; }
static void test_exit(void **s) { (void)s; _exit(3); }
int main(void) { const struct CMUnitTest t[] = { cmocka_unit_test(test_ok), cmocka_unit_test(test_exit) }; return cmocka_run_group_tests(t, NULL, NULL); }
`,
};

requiring(test, C_TOOLCHAIN)('a real ctest run of a tiny cmocka project counts every test once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wg-ctest-'));
  try {
    for (const [name, text] of Object.entries(sources)) writeFileSync(join(dir, name), text);
    const build = join(dir, 'build');
    for (const args of [
      ['-S', dir, '-B', build],
      ['--build', build],
    ]) {
      const run = spawnSync('cmake', args, { encoding: 'utf8' });
      assert.is(run.status, 0, run.stdout + run.stderr);
    }
    const ctest = spawnSync('ctest', ['--test-dir', build, '--output-on-failure', '-V'], { encoding: 'utf8' });
    const r = parseCtestOutput(ctest.stdout + ctest.stderr);
    assert.equal([r.tests, r.passed, r.failed, r.skipped], [5, 6, 2, 2]);
    assert.equal(r.failures, ['mixed: test_fail', 'crash (ctest: Failed)']);
    assert.equal(r.skippedNames, ['mixed: test_skip', 'plain_skip (ctest: Skipped)']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
