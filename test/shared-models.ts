// Where the three real TF.js models of ../shared/models/ are: beside the
// project's root, as CI lays it out, and nowhere else. A test that reads them
// declares it with requiring(test, SHARED_MODELS_FOLDER) and skips without them.
export { SHARED_MODELS_DIR as SHARED_MODELS, SHARED_MODELS_FOLDER } from './requirements.ts';
