/** Every node of an `EXPLAIN (FORMAT JSON)` plan, for tests that check what a statement's plan does. */
export function planNodes(top: unknown): Record<string, unknown>[] {
  const plans = typeof top === 'string' ? JSON.parse(top) : top;
  const out: Record<string, unknown>[] = [];
  const walk = (node: Record<string, unknown>) => {
    out.push(node);
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  for (const entry of plans as { Plan: Record<string, unknown> }[]) walk(entry.Plan);
  return out;
}
