/** Runs the migration files one statement at a time on an unmigrated database, stopping where a test inserts data. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, MIGRATIONS_FOLDER } from '@mediaforge/core';
import { sql } from 'drizzle-orm';

/** The migration files in order, and an `exec` for raw SQL returning rows. */
export function migrationSteps(database: Database) {
  const files = readdirSync(MIGRATIONS_FOLDER)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  const exec = async <T>(text: string): Promise<T[]> => {
    const result = (await database.db.execute(sql.raw(text))) as unknown as T[] | { rows: T[] };
    return Array.isArray(result) ? result : result.rows;
  };
  /** Applies every statement of `names`, in order. */
  const apply = async (names: readonly string[]) => {
    for (const name of names) {
      const statements = readFileSync(join(MIGRATIONS_FOLDER, name), 'utf8')
        .split('--> statement-breakpoint')
        .map((statement) => statement.trim())
        .filter(Boolean);
      for (const statement of statements) await exec(statement);
    }
  };
  return { files, exec, apply };
}
