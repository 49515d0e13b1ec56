/** Writing results: one JSON document with --json, aligned tables otherwise. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
