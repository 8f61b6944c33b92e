// nnv-fashion-mnist-dense at default flags, within the default accuracy budget (budget.ts).
// test: optimized-wasm (it trains with TF.js in this process)
import { budgetTest } from './budget.ts';

budgetTest('nnv-fashion-mnist-dense');
