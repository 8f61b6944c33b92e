#!/usr/bin/env python3
"""Code size and stack peak of the portable crypto on Cortex-M.

    python3 firmware/test/crypto/arm-figures.py [cortex-m4 cortex-m0plus ...]

Compiles src/crypto with arm-none-eabi-gcc -Os -mthumb, prints
arm-none-eabi-size per object, the bytes a firmware grows by when it links
wg_crypto_portable (a program calling verify and SHA-256, minus the same
program without them: includes the libgcc helpers it pulls in), and the
worst-case stack of each entry point from gcc's -fcallgraph-info=su (the
call graph is acyclic: no recursion).
"""
import os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FW = os.path.normpath(os.path.join(HERE, '..', '..'))
SOURCES = ['wg_sha2_consts', 'wg_sha256', 'wg_sha512', 'wg_ed25519', 'wg_crypto_portable',
           'wg_sha256_oneshot']
ENTRIES = ['wg_portable_ed25519_verify', 'wg_sha256']
MAIN = r'''
#include "weightgate_crypto.h"
volatile int sink;
int main(void) {
#ifdef WITH_CRYPTO
  uint8_t sig[64] = {0}, pk[32] = {1}, d[32];
  wg_sha256(&wg_crypto_portable, pk, 32, d);
  sink = wg_crypto_portable.ed25519_verify(sig, d, 32, pk);
#endif
  return sink;
}
'''

def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

def stack_graph(ci_files):
    frame, edges = {}, {}
    for path in ci_files:
        for line in open(path):
            m = re.match(r'node: \{ title: "(?:[^"]*:)?([^":]+)" label: "[^"]*\\n(\d+) bytes', line)
            if m:
                frame[m.group(1)] = int(m.group(2))
            m = re.match(r'edge: \{ sourcename: "(?:[^"]*:)?([^":]+)" targetname: "(?:[^"]*:)?([^":]+)"', line)
            if m:
                edges.setdefault(m.group(1), set()).add(m.group(2))
    # wg_sha256 calls through the table: count the portable SHA-256 there
    edges['__indirect_call'] = {'wg_portable_sha256_init', 'wg_portable_sha256_update',
                                'wg_portable_sha256_final'}
    memo = {}
    def peak(fn):
        if fn not in memo:
            below = [peak(c) for c in edges.get(fn, ())]
            best = max(below, key=lambda p: p[0], default=(0, []))
            memo[fn] = (frame.get(fn, 0) + best[0], [fn] + best[1])
        return memo[fn]
    return peak

def main():
    cpus = sys.argv[1:] or ['cortex-m4', 'cortex-m0plus']
    for cpu in cpus:
        with tempfile.TemporaryDirectory() as tmp:
            flags = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-Os', '-mcpu=' + cpu,
                     '-mthumb', '-ffunction-sections', '-fdata-sections', '-I' + os.path.join(FW, 'include')]
            objs = []
            for s in SOURCES:
                o = os.path.join(tmp, s + '.o')
                run(['arm-none-eabi-gcc', *flags, '-fcallgraph-info=su', '-dumpdir', tmp + '/', '-c',
                     os.path.join(FW, 'src', 'crypto', s + '.c'), '-o', o])
                objs.append(o)
            print(f'== {cpu} -Os -mthumb')
            print(run(['arm-none-eabi-size', '-t', *objs]).replace(tmp + '/', ''), end='')
            main_c = os.path.join(tmp, 'main.c')
            open(main_c, 'w').write(MAIN)
            sizes = {}
            for variant, extra in (('without', []), ('with', ['-DWITH_CRYPTO', *objs])):
                elf = os.path.join(tmp, variant + '.elf')
                run(['arm-none-eabi-gcc', *flags, '--specs=nano.specs', '--specs=nosys.specs',
                     '-Wl,--gc-sections', main_c, *extra, '-o', elf])
                text, data, bss = run(['arm-none-eabi-size', elf]).splitlines()[1].split()[:3]
                sizes[variant] = (int(text), int(data), int(bss))
            grow = [w - wo for w, wo in zip(sizes['with'], sizes['without'])]
            print(f'linked into a firmware: +{grow[0]} bytes text, +{grow[1]} data, +{grow[2]} bss')
            peak = stack_graph([os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith('.ci')])
            for e in ENTRIES:
                total, path = peak(e)
                print(f'stack peak {e}: {total} bytes ({" > ".join(path)})')

if __name__ == '__main__':
    main()
