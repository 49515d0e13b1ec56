import { afterEach, expect, test } from 'bun:test';
import { printJson, printJsonStreaming, printTable } from './output.ts';

const write = process.stdout.write.bind(process.stdout);
let written = '';
afterEach(() => {
  process.stdout.write = write;
});
function capture() {
  written = '';
  process.stdout.write = ((chunk: string) => {
    written += chunk;
    return true;
  }) as typeof process.stdout.write;
}

test('columns are as wide as their widest cell; the header can be left out for a following page', () => {
  capture();
  printTable(
    ['A', 'LONGER'],
    [
      ['xyz', '1'],
      ['w', '22'],
    ],
  );
  printTable(['A', 'LONGER'], [['v', '3']], { header: false });
  expect(written).toBe('A    LONGER\nxyz  1\nw    22\nv  3\n');
});

test('a million rows print (their widths are not spread into one call, which overflows the stack)', () => {
  capture();
  const rows = Array.from({ length: 1_000_000 }, (_, n) => [String(n % 10), 'x']);
  printTable(['N', 'X'], rows);
  expect(written.length).toBe('N  X\n'.length + 1_000_000 * '0  x\n'.length);
});

test('a list streamed a page at a time prints exactly what printJson prints for the whole document', async () => {
  async function* pagesOf(...pages: unknown[][]) {
    for (const page of pages) yield page;
  }
  const head = { taskId: 't', at: new Date(0), nested: { a: [1, 2] }, none: null };
  const items = [
    { seq: 0, payload: { url: 'u\n"x"' } },
    { seq: 1, when: new Date(1) },
    { seq: 2, list: [] },
  ];
  const cases: [Record<string, unknown>, unknown[][]][] = [
    [head, [items.slice(0, 2), [], items.slice(2)]],
    [head, []],
    [head, [[]]],
    [{}, [items]],
    [{}, []],
  ];
  for (const [top, pages] of cases) {
    capture();
    printJson({ ...top, items: pages.flat() });
    const whole = written;
    capture();
    await printJsonStreaming(top, 'items', pagesOf(...pages));
    expect(written).toBe(whole);
  }
});
