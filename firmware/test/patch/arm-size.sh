#!/usr/bin/env bash
# The patch applier's sources for Cortex-M4F and Cortex-M0+ at -Os with the
# strict flags the firmware uses (warnings are errors), and their flash
# size (text + data) per object and in all. The applier calls into the core
# library (wg_read_structure, wg_manifest_read, the segment cursor), which a
# device links for wg_open anyway: those are not counted here.
#   bash firmware/test/patch/arm-size.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fw="$here/../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
flags=(-Os -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wno-sign-conversion
       -ffunction-sections -fdata-sections -mthumb -I"$fw/include" -I"$fw/src" -DWG_ARITH_F32=1)
for target in "m4f -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard" "m0plus -mcpu=cortex-m0plus"; do
  read -r name cpu <<<"$target"
  objs=()
  for src in "$fw"/src/patch/*.c; do
    obj="$out/$name-$(basename "${src%.c}").o"
    # shellcheck disable=SC2086
    arm-none-eabi-gcc "${flags[@]}" $cpu -c "$src" -o "$obj"
    objs+=("$obj")
  done
  echo "== Cortex-$name: patch applier sources, -Os"
  arm-none-eabi-size -t "${objs[@]}" | sed "s|$out/||"
done
