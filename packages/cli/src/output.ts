/** Writing results: one JSON document with --json, aligned tables otherwise. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * `printJson({ ...head, [key]: list })`, byte for byte, with `list` written a page at a time as it is read, so a
 * list of a million entries never sits in memory whole (each page waits for stdout to drain).
 */
export async function printJsonStreaming(
  head: Record<string, unknown>,
  key: string,
  pages: AsyncIterable<readonly unknown[]>,
): Promise<void> {
  const write = (text: string) =>
    process.stdout.write(text) ? undefined : new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  const opening = JSON.stringify(head, null, 2);
  await write(`${opening === '{}' ? '{' : `${opening.slice(0, -2)},`}\n  ${JSON.stringify(key)}: [`);
  let count = 0;
  for await (const page of pages) {
    if (page.length === 0) continue;
    const entries = page.map((entry) => `    ${JSON.stringify(entry, null, 2).replaceAll('\n', '\n    ')}`);
    await write(`${count === 0 ? '\n' : ',\n'}${entries.join(',\n')}`);
    count += page.length;
  }
  await write(count === 0 ? ']\n}\n' : '\n  ]\n}\n');
}

/** Prints rows as left-aligned columns under a header. */
export function printTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  { header = true }: { header?: boolean } = {},
): void {
  // A loop, not Math.max(...rows): spreading a million rows into one call overflows the stack.
  const widths = headers.map((title, column) => {
    let width = title.length;
    for (const row of rows) width = Math.max(width, (row[column] ?? '').length);
    return width;
  });
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[...(header ? [line(headers)] : []), ...rows.map(line)].join('\n')}\n`);
}
