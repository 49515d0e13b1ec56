/** drizzle-kit configuration: `bun run db:generate` writes SQL migrations into ./drizzle. */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
