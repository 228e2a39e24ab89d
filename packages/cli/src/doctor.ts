/** `agentmesh doctor`: which sandbox isolation this machine offers, and why not where it does not. */
import { detectIsolation } from '@agentmesh/sandbox';

/** Prints the isolation report; resolves with 0 (the report is the answer, whatever it says). */
export async function runDoctor(print: (line: string) => void): Promise<number> {
  const report = detectIsolation({ docker: true, refresh: true });
  print('agentmesh doctor: sandbox isolation on this machine');
  const rows: [string, { available: boolean; reason: string; path?: string; version?: string }][] = [
    ['bubblewrap', report.bubblewrap],
    ['prlimit', report.prlimit],
    ['unprivileged user', report.unprivilegedUser],
    ['isolated-vm', report.isolatedVm],
    ['docker', report.docker],
  ];
  for (const [name, capability] of rows) {
    const where = [capability.path, capability.version].filter(Boolean).join(' ');
    print(`  ${capability.available ? 'yes' : 'no '}  ${name.padEnd(18)} ${capability.reason}${where ? ` (${where})` : ''}`);
  }
  print(`  → ${report.summary}`);
  return 0;
}
