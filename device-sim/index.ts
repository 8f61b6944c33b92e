// device-sim/: the simulated microcontroller. What other code (CLI, demo,
// benches) calls; each name lives in the file named beside it.
export { openDevice } from './device.ts';
export type { Device, DeviceStatus, EvaluateResult, InferResult, OpenDeviceOptions, PublicKeyInput, Split, UpdateOutcome } from './device.ts';
export { BudgetError, DeviceError, DeviceErrorCode, PowerCutError } from './errors.ts';
export { parsePowerCut, randomPowerCut, type PowerCutPlan, type UpdatePhase } from './power-cut.ts';
export { DEFAULT_PROFILE, PROFILES, parseArithmetic, parseByteSize, resolveProfile, type DeviceProfile } from './profiles.ts';
export { firmwarePlan, type Arithmetic, type FirmwarePlan } from './firmware-plan.ts';
export { createInterpreter, type Interpreter, type InterpreterOptions } from './interpreter.ts';
export { loadArtifactOnProfile, scoreSplit, type FitReport, type SplitScore } from './check-artifact.ts';
export { openFleet, summarizeFleet, type Fleet, type FleetRoundOptions, type FleetSamples, type FleetSummary } from './fleet.ts';
export { openWorkerFleet, type WorkerFleet } from './fleet-workers.ts';
