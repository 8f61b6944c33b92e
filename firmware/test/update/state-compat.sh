#!/usr/bin/env bash
# The state record both ways between device-sim and the C library:
# gen-state.ts writes records, state_compat checks them; state_compat writes
# records, gen-state.ts checks them. Exits 77 (ctest: skipped) without node
# or the project's node_modules.
#   bash firmware/test/update/state-compat.sh <state_compat binary> <work dir>
set -euo pipefail
compat="$1"
work="$2"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
if ! command -v node >/dev/null 2>&1 || [ ! -e "$root/node_modules/.bin/tsx" ]; then
  echo "SKIPPED: needs node and the project's node_modules (tsx) to run device-sim/state-record.ts"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work/from-ts" "$work/from-c"
cd "$root"
node --import tsx firmware/test/update/gen-state.ts write "$work/from-ts"
"$compat" check "$work/from-ts"
"$compat" write "$work/from-c"
node --import tsx firmware/test/update/gen-state.ts read "$work/from-c"
