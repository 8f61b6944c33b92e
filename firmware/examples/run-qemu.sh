#!/bin/sh
# run-qemu.sh BOARD ELF [TIMEOUT_S]
#
# Runs a firmware image headless in QEMU with semihosting, prints what it
# writes, and exits with the firmware's own exit status (the subcode of its
# SYS_EXIT_EXTENDED, 0..255; see board/wg_board.h).
#
#   BOARD      mps2-an386 (Cortex-M4F) | microbit (Cortex-M0) | mps2-an505 (Cortex-M33)
#   ELF        the image; QEMU loads its segments and the CPU starts from
#              the vector table at the board's boot address
#   TIMEOUT_S  wall-clock limit, default 30; when it runs out the exit
#              status is 124 and a line on stderr says so
#
# Environment:
#   QEMU=...         the qemu-system-arm to use (default: from PATH)
#   ICOUNT=1         add -icount shift=0,align=off,sleep=off: virtual time
#                    advances 1 ns per instruction, so the board counter
#                    counts instructions, and runs are repeatable
#   QEMU_EXTRA=...   more QEMU arguments (word-split)
#
# QEMU's own failures (no such machine, image not loadable) also exit 1,
# like a firmware returning 1; its message is in the output.
#
# Semihosting output goes to QEMU's stderr; this script sends it to stdout
# with the rest, so a caller reads one stream.

set -u

usage() {
    echo "usage: $0 BOARD ELF [TIMEOUT_S]" >&2
    exit 2
}

[ $# -ge 2 ] && [ $# -le 3 ] || usage
board=$1
elf=$2
timeout_s=${3:-30}

case $board in
mps2-an386 | microbit | mps2-an505) machine=$board ;;
*)
    echo "run-qemu.sh: unknown board '$board' (mps2-an386, microbit, mps2-an505)" >&2
    exit 2
    ;;
esac

if [ ! -f "$elf" ]; then
    echo "run-qemu.sh: no such image: $elf" >&2
    exit 2
fi

qemu=${QEMU:-qemu-system-arm}
icount=
if [ "${ICOUNT:-0}" = 1 ]; then
    icount="-icount shift=0,align=off,sleep=off"
fi

# shellcheck disable=SC2086 # icount and QEMU_EXTRA are word lists
timeout -k 5 "$timeout_s" "$qemu" -M "$machine" $icount \
    -nographic -monitor none -serial null \
    -semihosting-config enable=on,target=native \
    ${QEMU_EXTRA:-} \
    -kernel "$elf" </dev/null 2>&1
status=$?

if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "run-qemu.sh: TIMEOUT: $elf on $board did not exit within ${timeout_s}s" >&2
    exit 124
fi
exit "$status"
