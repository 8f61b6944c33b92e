// digitsjs-mnist-mlp at default flags, within the default accuracy budget (budget.ts).
import { budgetTest } from './budget.ts';

budgetTest('digitsjs-mnist-mlp');
