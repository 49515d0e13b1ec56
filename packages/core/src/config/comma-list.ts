/** Settings given as comma-separated lists (`a, b,c`): entries trimmed, empty ones dropped. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** The entries of a comma-separated list that `valid` refuses (for the settings check, which names them). */
export function invalidEntries(list: string, valid: (entry: string) => unknown): string[] {
  return commaList(list).filter((entry) => !valid(entry));
}
