// Where the three real TF.js models of ../shared/models/ are: beside the
// project's root (as CI lays it out), else the workplace's copy.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const besideRoot = fileURLToPath(new URL('../../shared/models', import.meta.url));

export const SHARED_MODELS = existsSync(besideRoot) ? besideRoot : '/work/shared/models';
