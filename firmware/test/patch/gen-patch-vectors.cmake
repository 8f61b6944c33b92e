# Runs gen-patch-vectors.ts through `node --import tsx` from the repository root into
# OUT (a directory), then touches OUT/stamp. A failure (no node_modules, no
# tsx) is a warning: the vector tests then skip.
file(REMOVE_RECURSE ${OUT})
execute_process(
  COMMAND ${NODE} --import tsx ${SCRIPT} ${OUT}
  WORKING_DIRECTORY ${ROOT}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE_RECURSE ${OUT})
  message(WARNING "gen-patch-vectors.ts failed (${rc}); the patch vector tests will skip")
endif()
file(MAKE_DIRECTORY ${OUT})
file(TOUCH ${OUT}/stamp)
