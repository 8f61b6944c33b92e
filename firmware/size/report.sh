#!/bin/sh
# Builds the library for each Cortex-M target at -Os and prints the code
# size of open + verify + invoke (crypto excluded: it is the caller's
# table). Run from the repository root: sh firmware/size/report.sh
set -e
out=firmware/build
for target in cortex-m0plus:int:ON cortex-m4f:f32:ON cortex-m4f:int:ON cortex-m33:f32:ON cortex-m33:int:ON \
  cortex-m0plus:int:OFF cortex-m4f:f32:OFF cortex-m4f:int:OFF; do
  cpu=${target%%:*}
  rest=${target#*:}
  arith=${rest%%:*}
  canonical=${rest##*:}
  dir=$out/$cpu-$arith-canonical-$canonical
  cmake -S firmware -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/firmware/cmake/arm-none-eabi.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DWG_CPU="$cpu" -DWG_ARITH="$arith" -DWG_CANONICAL="$canonical" -DWG_TESTS=OFF >/dev/null
  cmake --build "$dir" -j2 --target size_probe size_baseline >/dev/null
  base=$(arm-none-eabi-size "$dir/size/size_baseline" | awk 'NR==2 {print $1 + $2}')
  probe=$(arm-none-eabi-size "$dir/size/size_probe" | awk 'NR==2 {print $1 + $2}')
  lib=$(arm-none-eabi-size -t "$dir/libweightgate.a" | awk 'END {print $1 + $2}')
  echo "$cpu $arith WG_CANONICAL=$canonical: open+verify+invoke $((probe - base)) bytes text+data (whole library $lib)"
done
