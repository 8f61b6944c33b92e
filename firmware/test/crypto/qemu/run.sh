#!/usr/bin/env bash
# The portable crypto on emulated Cortex-M4 (MPS2 AN386) and Cortex-M0
# (BBC micro:bit), bare metal: RFC 8032 and SHA-256 checks, verify's stack
# peak and instruction count. Needs arm-none-eabi-gcc and qemu-system-arm.
#   bash firmware/test/crypto/qemu/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fw="$here/../../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
src=("$here/crypto_on_mcu.c" "$fw"/src/crypto/wg_sha2_consts.c "$fw"/src/crypto/wg_sha256.c
     "$fw"/src/crypto/wg_sha512.c "$fw"/src/crypto/wg_ed25519.c "$fw"/src/crypto/wg_crypto_portable.c
     "$fw"/src/crypto/wg_sha256_oneshot.c)
status=0
for target in "cortex-m4 mps2-an386 25000000" "cortex-m0 microbit 16000000"; do
  read -r cpu machine hz <<<"$target"
  arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror -Os -mcpu="$cpu" -mthumb -DCPU_HZ="${hz}u" \
    -I"$fw/include" -ffunction-sections -fdata-sections -nostartfiles --specs=nano.specs \
    -T "$here/link.ld" -Wl,--gc-sections "${src[@]}" -o "$out/$cpu.elf"
  echo "== $cpu on qemu $machine"
  timeout 600 qemu-system-arm -M "$machine" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$out/$cpu.elf" 2>&1 || status=1
done
exit $status
