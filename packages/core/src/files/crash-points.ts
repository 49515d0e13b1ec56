/**
 * Test hook for the chaos suite's crash-steps scenario: `MEDIAFORGE_CRASH_AT=<step>` makes this process SIGKILL
 * itself when the file pipeline reaches that step, so a crash lands exactly between two writes (a claim and a key
 * reservation, a put and its commit…) instead of wherever a timer happens to fire. Never set in production; when
 * unset, each point is one comparison with `undefined`.
 */
export type CrashStep =
  | 'after-claim'
  | 'during-spool'
  | 'after-reserve'
  | 'after-put'
  | 'after-commit'
  | 'delete-after-commit';

// Read once: the variable is fixed for a process's life (the chaos suite sets it when spawning a child).
const armed = process.env.MEDIAFORGE_CRASH_AT;

/** Kills this process with SIGKILL (no cleanup, no finally blocks) when `MEDIAFORGE_CRASH_AT` names `step`. */
export function crashPoint(step: CrashStep): void {
  if (armed === step) process.kill(process.pid, 'SIGKILL');
}
