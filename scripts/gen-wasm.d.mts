// Types of gen-wasm.mjs for the TypeScript that imports it (its tests).
/** The text of device-sim/kernels/gen/rows-wasm.ts as rows.wat assembles now. */
export function renderRowsWasm(): Promise<string>;
/** The text of device-sim/kernels/gen/conv-image-wasm.ts as conv-image.wat assembles now. */
export function renderConvImageWasm(): Promise<string>;
