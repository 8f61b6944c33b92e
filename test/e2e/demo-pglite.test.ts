// The demo story on the embedded PGlite database (see demo-story.ts).
import { demoStoryTest } from './demo-story.ts';

demoStoryTest({ name: 'pglite' });
