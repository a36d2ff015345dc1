/**
 * Crash tests (test/knowledge-crash.test.ts) kill a writ child with SIGKILL between the steps of a
 * knowledge write: `objects` (git objects written, ledger not committed), `ledger` (ledger durable,
 * refs not moved), `refs` (refs moved). The variable is read by the child process only.
 */
export type KillPoint = 'objects' | 'ledger' | 'refs';

export function killPoint(step: KillPoint): void {
  if (process.env.WRIT_TEST_KNOWLEDGE_KILL === step) process.kill(process.pid, 'SIGKILL');
}
