/** `mediaforge keys create|list|revoke`: API keys for `mediaforge serve` (stored hashed; shown once). */
import { ApiKeyStore } from '@mediaforge/core';
import { defineCommand } from 'citty';
import { jsonArg } from '../args.ts';
import { withContext } from '../context.ts';
import { printJson, printTable } from '../output.ts';

const create = defineCommand({
  meta: { name: 'create', description: 'Create an API key for a user; the key is printed once and never stored' },
  args: {
    user: { type: 'string', description: 'The user whose records and tasks the key reaches', required: true },
    admin: { type: 'boolean', description: "Let the key see and act on every user's records and tasks" },
    name: { type: 'string', description: 'A label to recognise the key by in `keys list`' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const keys = new ApiKeyStore((await ctx.database()).db);
      const { key, info } = await keys.create({
        userId: args.user,
        admin: args.admin ?? false,
        ...(args.name ? { name: args.name } : {}),
      });
      if (args.json) return printJson({ key, ...info });
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `Created key ${info.id} for ${info.userId}${info.admin ? ' (admin)' : ''}. Store it now: it cannot be shown again.\n` +
          `Use it as: curl -H "Authorization: Bearer <key>" http://${ctx.settings.api.host}:${ctx.settings.api.port}/v1/records\n`,
      );
    }),
});

const list = defineCommand({
  meta: { name: 'list', description: 'List API keys (ids and owners, never secrets)' },
  args: {
    user: { type: 'string', description: "Only this user's keys" },
    all: { type: 'boolean', description: 'Include revoked keys' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const keys = new ApiKeyStore((await ctx.database()).db);
      const found = await keys.list({ ...(args.user ? { userId: args.user } : {}), includeRevoked: args.all ?? false });
      if (args.json) return printJson(found);
      printTable(
        ['ID', 'USER', 'ADMIN', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'],
        found.map((key) => [
          key.id,
          key.userId,
          key.admin ? 'yes' : 'no',
          key.name ?? '',
          key.createdAt.toISOString(),
          key.lastUsedAt?.toISOString() ?? '',
          key.revokedAt?.toISOString() ?? '',
        ]),
      );
    }),
});

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke a key by id (running servers drop it at once, by NOTIFY)' },
  args: {
    id: { type: 'positional', description: 'Key id (from keys list) or the whole key', required: true },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const keys = new ApiKeyStore((await ctx.database()).db);
      const info = await keys.revoke(String(args.id));
      if (args.json) return printJson(info);
      process.stderr.write(`Revoked key ${info.id} of ${info.userId}.\n`);
    }),
});

export default defineCommand({
  meta: { name: 'keys', description: 'Manage API keys for the HTTP API' },
  subCommands: { create, list, revoke },
});
