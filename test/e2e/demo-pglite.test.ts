// The demo story on the embedded PGlite database (see demo-story.ts).
// test: optimized-wasm (it trains with TF.js in this process)
import { demoStoryTest } from './demo-story.ts';

demoStoryTest({ name: 'pglite' });
