#!/bin/sh
# Builds the library for each Cortex-M target at -Os and prints the code
# size of open + verify + invoke (crypto excluded: it is the caller's
# table). Run from the repository root: sh firmware/size/report.sh
#
# A target is cpu:arith:canonical:codings[:spatial], codings `both` (the
# default build, range and Rice segments), `rice` (WG_CODING_RANGE=OFF: a
# firmware that only runs Rice-coded models) or `range`
# (WG_CODING_RICE=OFF); spatial ON builds the convolutional layers in
# (WG_SPATIAL, format version 2; OFF, the cross builds' default, when not
# given). Build directories: firmware/build/<cpu>-<arith>-canonical-<ON|OFF>,
# with -<rice|range> after the arith for a one-coding build and -spatial
# before -canonical for a WG_SPATIAL one.
set -e
out=firmware/build
for target in cortex-m0plus:int:ON:both cortex-m4f:f32:ON:both cortex-m4f:int:ON:both cortex-m33:f32:ON:both \
  cortex-m33:int:ON:both cortex-m0plus:int:OFF:both cortex-m4f:f32:OFF:both cortex-m4f:int:OFF:both \
  cortex-m0plus:int:OFF:rice cortex-m4f:f32:OFF:rice cortex-m4f:int:OFF:rice \
  cortex-m4f:f32:OFF:range cortex-m4f:int:OFF:range \
  cortex-m4f:f32:OFF:both:ON cortex-m4f:f32:OFF:rice:ON cortex-m4f:f32:OFF:range:ON cortex-m33:f32:OFF:both:ON \
  cortex-m4f:int:OFF:both:ON cortex-m0plus:int:OFF:both:ON; do
  cpu=${target%%:*}
  rest=${target#*:}
  arith=${rest%%:*}
  rest=${rest#*:}
  canonical=${rest%%:*}
  rest=${rest#*:}
  codings=${rest%%:*}
  spatial=OFF
  [ "$rest" != "$codings" ] && spatial=${rest#*:}
  range=ON
  rice=ON
  name=$cpu-$arith
  if [ "$codings" = rice ]; then
    name=$name-rice
    range=OFF
  elif [ "$codings" = range ]; then
    name=$name-range
    rice=OFF
  fi
  [ "$spatial" = ON ] && name=$name-spatial
  dir=$out/$name-canonical-$canonical
  cmake -S firmware -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/firmware/cmake/arm-none-eabi.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel -DWG_CPU="$cpu" -DWG_ARITH="$arith" -DWG_CANONICAL="$canonical" \
    -DWG_CODING_RANGE="$range" -DWG_CODING_RICE="$rice" -DWG_SPATIAL="$spatial" -DWG_TESTS=OFF >/dev/null
  cmake --build "$dir" -j2 --target size_probe size_baseline >/dev/null
  base=$(arm-none-eabi-size "$dir/size/size_baseline" | awk 'NR==2 {print $1 + $2}')
  probe=$(arm-none-eabi-size "$dir/size/size_probe" | awk 'NR==2 {print $1 + $2}')
  lib=$(arm-none-eabi-size -t "$dir/libweightgate.a" | awk 'END {print $1 + $2}')
  echo "$cpu $arith WG_CANONICAL=$canonical codings=$codings WG_SPATIAL=$spatial: open+verify+invoke $((probe - base)) bytes text+data (whole library $lib)"
done
