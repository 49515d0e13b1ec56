/** Hostile cases tallied by surface and category, with what was expected and what happened, for the report. */

export interface CaseResult {
  surface: 'library' | 'CLI' | 'API';
  category: string;
  name: string;
  expected: string;
  got: string;
}

export class CaseBook {
  readonly results: CaseResult[] = [];

  record(result: CaseResult): void {
    this.results.push(result);
  }

  /** Cases whose outcome differed from the expectation: the suite asserts there are none. */
  mismatches(): CaseResult[] {
    return this.results.filter((result) => result.got !== result.expected);
  }

  summary(): { total: number; byCategory: Record<string, number>; bySurface: Record<string, number> } {
    const byCategory: Record<string, number> = {};
    const bySurface: Record<string, number> = {};
    for (const result of this.results) {
      byCategory[result.category] = (byCategory[result.category] ?? 0) + 1;
      bySurface[result.surface] = (bySurface[result.surface] ?? 0) + 1;
    }
    return { total: this.results.length, byCategory, bySurface };
  }
}
