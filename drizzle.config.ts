// drizzle-kit: `npm run db:generate` turns src/db/schema.ts changes into a new SQL migration in sql/.
// The generated files (SQL and meta/) are committed; `callbridge db migrate` and the controller apply them.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './sql',
  strict: true,
});
