import { describe, expect, test } from 'bun:test';
import { ENV_DOCS, ENV_GROUPS } from './env-docs.ts';
import { envSchema } from './env-schema.ts';

describe('ENV_DOCS', () => {
  const defaults = envSchema.parse({}) as Record<string, unknown>;

  test('documents every variable the schema reads, and nothing else', () => {
    expect(Object.keys(ENV_DOCS).sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  test('every entry says what it means and what happens when it is unset', () => {
    for (const [variable, doc] of Object.entries(ENV_DOCS)) {
      expect(doc.meaning.length, variable).toBeGreaterThan(10);
      expect(ENV_GROUPS[doc.group], variable).toBeString();
      // A schema default is the truth; an `unset` text is only for variables the schema leaves undefined.
      const unset = 'unset' in doc ? doc.unset : undefined;
      if (defaults[variable] === undefined) expect(unset, `${variable} needs an unset text`).toBeString();
      else expect(unset, `${variable} has a schema default; drop its unset text`).toBeUndefined();
    }
  });
});
