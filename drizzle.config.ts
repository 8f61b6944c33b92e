// drizzle-kit reads this to generate server/db/gen/migrations/ from the schema:
//   npx drizzle-kit generate
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/schema.ts',
  out: './server/db/gen/migrations',
});
