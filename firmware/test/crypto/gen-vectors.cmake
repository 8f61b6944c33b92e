# Runs gen-vectors.ts with node and tsx's loader (`node --import tsx`: a
# third of the CPU time of `npx tsx`) from the repository root. A failure
# (no node_modules, no tsx) is a warning: the vector test then skips.
file(REMOVE ${OUT})
execute_process(
  COMMAND ${NODE} --import tsx ${SCRIPT} ${OUT}.tmp
  WORKING_DIRECTORY ${ROOT}
  RESULT_VARIABLE rc)
if(rc EQUAL 0)
  file(RENAME ${OUT}.tmp ${OUT})
else()
  file(REMOVE ${OUT}.tmp)
  message(WARNING "gen-vectors.ts failed (${rc}); the node:crypto vector test will skip")
endif()
