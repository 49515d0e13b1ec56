/** docs/http-api.md: every route of the HTTP API, from the app's own /openapi.json. */
import { createApp } from '../../packages/api/src/index.ts';
import { createLogger, type Database, loadSettings } from '../../packages/core/src/index.ts';
import type { ObjectStore } from '../../packages/storage/src/index.ts';
import { generatedFrom, table } from './markdown.ts';

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: Schema;
  $ref?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: Schema }> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * Builds the app as the server does and asks it for /openapi.json. Serving the document touches neither the database
 * nor the store, so both are inert stand-ins: any property is another stand-in, any call returns one.
 */
export async function openApiDocument(): Promise<OpenApiDocument> {
  const inert: unknown = new Proxy(() => inert, { get: (_target, name) => (name === 'then' ? undefined : inert) });
  const settings = loadSettings({ env: { LOG_LEVEL: 'silent' } });
  const { app, close } = createApp({
    database: inert as Database,
    store: inert as ObjectStore,
    settings,
    logger: createLogger({ level: 'silent' }),
  });
  try {
    const response = await app.request('/openapi.json');
    if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
    return (await response.json()) as OpenApiDocument;
  } finally {
    close();
  }
}

const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

function typeOf(schema: Schema | undefined): string {
  if (!schema) return '';
  if (schema.$ref) return `[${refName(schema.$ref)}](#${refName(schema.$ref).toLowerCase()})`;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map(typeOf).join(' or ');
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(', ');
  const types = [schema.type ?? 'object'].flat();
  const base = types
    .map((type) => (type === 'array' ? `${typeOf(schema.items)}[]` : type))
    .join(' or ')
    .replace(/^ or |(?<= or) or /, '');
  return schema.format ? `${base} (${schema.format})` : base;
}

function renderOperation(method: string, path: string, op: Operation): string {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, '', `${op.summary ?? ''}.`.replace(/\.\.$/, '.')];
  if (op.description) lines.push('', op.description);
  lines.push('', op.security?.length ? 'Needs `Authorization: Bearer <key>`.' : 'No key needed.');
  if (op.parameters?.length) {
    const rows = op.parameters.map((p) => [
      `\`${p.name}\``,
      p.in,
      typeOf(p.schema),
      p.required ? 'yes' : '',
      p.description ?? p.schema?.description ?? '',
    ]);
    lines.push('', table(['parameter', 'in', 'type', 'required', 'meaning'], rows));
  }
  if (op.requestBody) {
    const bodies = Object.entries(op.requestBody.content).map(
      ([type, { schema }]) => `\`${type}\`${schema ? `: ${typeOf(schema)}` : ''}`,
    );
    lines.push('', `Body: ${bodies.join('; ')}.`);
  }
  const responses = Object.entries(op.responses).map(([status, response]) => {
    const schema = response.content ? Object.values(response.content)[0]?.schema : undefined;
    return [`${status}`, response.description, schema ? typeOf(schema) : ''];
  });
  lines.push('', table(['status', 'meaning', 'body'], responses));
  return lines.join('\n');
}

function renderSchema(name: string, schema: Schema): string {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([property, value]) => [
    `\`${property}\``,
    typeOf(value),
    required.has(property) ? 'yes' : '',
    value.description ?? '',
  ]);
  const body = rows.length > 0 ? table(['field', 'type', 'required', 'meaning'], rows) : `${typeOf(schema)}.`;
  return `### ${name}\n\n${schema.description ? `${schema.description}\n\n` : ''}${body}`;
}

export async function renderHttpApi(): Promise<string> {
  const doc = await openApiDocument();
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const tag = op.tags?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, op)]);
    }
  }
  const routes = [...byTag].map(([tag, operations]) => `## ${tag}\n\n${operations.join('\n\n')}`);
  const schemas = Object.entries(doc.components.schemas).map(([name, schema]) => renderSchema(name, schema));
  return `# HTTP API reference

${generatedFrom("the API's OpenAPI document (packages/api/src/routes, schemas.ts)")}

How to run the server, authenticate and read errors: [http-api-guide.md](http-api-guide.md). A running server
serves this document as \`/openapi.json\` and as Swagger UI at \`/docs\`.

${routes.join('\n\n')}

## Schemas

${schemas.join('\n\n')}
`;
}
