// The demo story on PostgreSQL, in a scratch database (see demo-story.ts).
// test: optimized-wasm (it trains with TF.js in this process)
import { POSTGRES } from '../requirements.ts';
import { demoStoryTest } from './demo-story.ts';

demoStoryTest({ name: 'postgres', databaseUrl: process.env.DATABASE_URL, needs: [POSTGRES] });
