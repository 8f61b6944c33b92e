// nnv-fashion-mnist-dense at default flags, within the default accuracy budget (budget.ts).
import { budgetTest } from './budget.ts';

budgetTest('nnv-fashion-mnist-dense');
