// Types of gen-wasm.mjs for the TypeScript that imports it (its test).
/** The text of device-sim/kernels/gen/rows-wasm.ts as rows.wat assembles now. */
export function renderRowsWasm(): Promise<string>;
