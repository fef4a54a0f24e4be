import { defineConfig } from 'drizzle-kit';

// Migrations are generated from src/db/schema and reviewed like code; the daemon applies them.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
});
