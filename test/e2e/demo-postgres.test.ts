// The demo story on PostgreSQL, in a scratch database (see demo-story.ts).
import { POSTGRES } from '../requirements.ts';
import { demoStoryTest } from './demo-story.ts';

demoStoryTest({ name: 'postgres', databaseUrl: process.env.DATABASE_URL, needs: [POSTGRES] });
