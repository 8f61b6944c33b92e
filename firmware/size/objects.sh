#!/usr/bin/env bash
# One part of the library's sources, compiled for Cortex-M4F and Cortex-M0+
# at -Os with the strict flags the firmware uses (warnings are errors), and
# their flash size (text + data) per object and in all.
#   bash firmware/size/objects.sh LABEL SOURCE_DIR [EXTRA_FLAG ...]
# e.g. the patch applier (it calls into the core library, which a device
# links for wg_open anyway; that is not counted):
#   bash firmware/size/objects.sh "patch applier" firmware/src/patch -Ifirmware/src -DWG_ARITH_F32=1
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 LABEL SOURCE_DIR [EXTRA_FLAG ...]" >&2
  exit 2
fi
label=$1
sources=$2
shift 2
fw="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
flags=(-Os -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -Wno-sign-conversion
       -ffunction-sections -fdata-sections -mthumb -I"$fw/include" "$@")
for target in "m4f -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard" "m0plus -mcpu=cortex-m0plus"; do
  read -r name cpu <<<"$target"
  objs=()
  for src in "$sources"/*.c; do
    obj="$out/$name-$(basename "${src%.c}").o"
    # shellcheck disable=SC2086
    arm-none-eabi-gcc "${flags[@]}" $cpu -c "$src" -o "$obj"
    objs+=("$obj")
  done
  echo "== Cortex-$name: $label sources, -Os"
  arm-none-eabi-size -t "${objs[@]}" | sed "s|$out/||"
done
