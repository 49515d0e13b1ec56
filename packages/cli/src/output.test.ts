import { afterEach, expect, test } from 'bun:test';
import { printTable } from './output.ts';

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
