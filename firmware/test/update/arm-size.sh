#!/usr/bin/env bash
# The update sources for Cortex-M4F and Cortex-M0+ with the strict flags the
# firmware uses, and their flash size (text + data) per object and in all.
#   bash firmware/test/update/arm-size.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fw="$here/../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
flags=(-Os -std=c99 -Wall -Wextra -Werror -pedantic -ffunction-sections -fdata-sections -mthumb
       -I"$fw/include" -I"$fw/src/update")
for target in "m4f -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard" "m0plus -mcpu=cortex-m0plus"; do
  read -r name cpu <<<"$target"
  objs=()
  for src in "$fw"/src/update/*.c; do
    obj="$out/$name-$(basename "${src%.c}").o"
    # shellcheck disable=SC2086
    arm-none-eabi-gcc "${flags[@]}" $cpu -c "$src" -o "$obj"
    objs+=("$obj")
  done
  echo "== Cortex-$name: update sources, -Os"
  arm-none-eabi-size -t "${objs[@]}" | sed "s|$out/||"
done
