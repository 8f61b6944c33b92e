#!/bin/sh
# Builds the library for each Cortex-M target at -Os and prints the code
# size of open + verify + invoke (crypto excluded: it is the caller's
# table). Run from the repository root: sh firmware/size/report.sh
set -e
out=firmware/build
for target in cortex-m0plus:int cortex-m4f:f32 cortex-m4f:int cortex-m33:f32 cortex-m33:int; do
  cpu=${target%%:*}
  arith=${target##*:}
  dir=$out/$cpu-$arith
  cmake -S firmware -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/firmware/cmake/arm-none-eabi.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DWG_CPU="$cpu" -DWG_ARITH="$arith" -DWG_TESTS=OFF >/dev/null
  cmake --build "$dir" -j2 --target size_probe size_baseline >/dev/null
  base=$(arm-none-eabi-size "$dir/size/size_baseline" | awk 'NR==2 {print $1 + $2}')
  probe=$(arm-none-eabi-size "$dir/size/size_probe" | awk 'NR==2 {print $1 + $2}')
  lib=$(arm-none-eabi-size -t "$dir/libweightgate.a" | awk 'END {print $1 + $2}')
  echo "$cpu $arith: open+verify+invoke $((probe - base)) bytes text+data (whole library $lib)"
done
