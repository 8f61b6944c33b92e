# The state record both ways between device-sim and the C library:
# gen-state.ts writes records, state_compat checks them; state_compat writes
# records, gen-state.ts checks them. Exits 77 (skipped) without npx or the
# project's node_modules.
if(NOT NPX OR NOT EXISTS ${ROOT}/node_modules/.bin/tsx)
  message("SKIPPED: needs node (npx) and the project's node_modules (tsx) to run device-sim/state-record.ts")
  cmake_language(EXIT 77)
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/from-ts ${WORK}/from-c)
function(step)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${ROOT} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()
step(${NPX} --no-install tsx firmware/test/update/gen-state.ts write ${WORK}/from-ts)
step(${COMPAT} check ${WORK}/from-ts)
step(${COMPAT} write ${WORK}/from-c)
step(${NPX} --no-install tsx firmware/test/update/gen-state.ts read ${WORK}/from-c)
