/**
 * Plain-text renderings of a run for a terminal: one progress line per event that a
 * person wants to see live, and the report with its metrics at the end.
 */
import type { CompareReport, ConductorEvent, RunMetrics, RunReport } from './conductor-event';

/** One live progress line for an event, or undefined for events not worth a line. */
export function formatEvent(event: ConductorEvent): string | undefined {
  switch (event.type) {
    case 'phase-start':
      // implement and validate run once per task, in parallel: the task lines say it better.
      return event.phase === 'implement' || event.phase === 'validate' ? undefined : `▶ ${event.phase}`;
    case 'phase-end':
      return event.phase === 'implement' || event.phase === 'validate' ? undefined : `  ${event.phase} done in ${event.durationMs} ms`;
    case 'probe-end':
      return `  probe ${event.kind.padEnd(12)} ${event.ok ? 'ok    ' : 'FAILED'} ${event.summary} (${event.durationMs} ms)`;
    case 'task-found': {
      const task = event.task;
      return `  task ${task.id}${task.parallel ? ' [P]' : ''} ${task.title}`;
    }
    case 'plan':
      return `  plan: ${event.plan.tasks.length} tasks in ${event.plan.schedule.length} groups (${event.plan.schedule.map((group) => group.taskIds.join('+')).join(' → ')})`;
    case 'task-state':
      if (event.to === 'implementing') return `  ${event.taskId} implementing (attempt ${event.attempt + 1})`;
      if (event.to === 'done' || event.to === 'failed') return `  ${event.taskId} ${event.to === 'done' ? 'done' : 'FAILED'} after ${event.attempt} attempt${event.attempt === 1 ? '' : 's'}`;
      return undefined;
    case 'patch':
      return `    patch ${event.patch.file}: ${event.patch.description}`;
    case 'check-end': {
      const check = event.check;
      const found = check.name === 'typecheck' ? `${check.diagnostics.length} type errors in the workspace` : `${check.failures.length} failing tests`;
      if (event.taskId !== 'verify') return `    check ${event.taskId} ${check.name} in ${check.durationMs} ms (${check.isolation}): ${found}`;
      return `    check ${check.name} ${check.passed ? 'passed' : 'FAILED'} in ${check.durationMs} ms (${check.isolation})${check.passed ? '' : `: ${found}`}`;
    }
    case 'task-verdict':
      return `    ${event.taskId} ${event.passed ? 'validated' : 'REJECTED'}: ${event.summary}`;
    case 'retry':
      return `  ↻ retry ${event.taskId} (attempt ${event.attempt}): ${event.reason.slice(0, 160)}; rejected ${event.rejectedCandidates.join(', ') || 'none'}`;
    case 'run-end':
      return event.error ? `■ run ${event.status}: ${event.error}` : `■ run ${event.status}`;
    default:
      return undefined;
  }
}

function metricsLines(metrics: RunMetrics): string[] {
  const lines: string[] = [];
  lines.push(`  wall time: ${metrics.totalMs} ms total; ${Object.entries(metrics.phasesMs).map(([phase, ms]) => `${phase} ${ms} ms`).join(', ')}`);
  for (const [agent, kinds] of Object.entries(metrics.toolCalls)) {
    const parts = Object.entries(kinds).map(([kind, value]) => `${kind} ${value}`);
    lines.push(`  tool calls ${agent.padEnd(9)}: ${parts.join(', ') || 'none'} (${metrics.calls[agent as keyof RunMetrics['calls']]} calls)`);
  }
  lines.push(`  retries: ${metrics.retries}; tokens in/out: ${metrics.tokens.input}/${metrics.tokens.output}`);
  const adherence = metrics.planAdherence;
  lines.push(
    `  plan adherence: ${adherence.tasksDone}/${adherence.tasksPlanned} tasks done (${Math.round(adherence.ratio * 100)}%); files outside the plan: ${adherence.filesOutsidePlan.join(', ') || 'none'}`,
  );
  for (const [agent, hop] of Object.entries(metrics.hopLatency)) {
    if (hop) lines.push(`  hop ${agent.padEnd(9)} ${hop.address}: ${hop.calls} calls, first event p50 ${hop.p50Ms} ms, max ${hop.maxMs} ms${hop.rttMs !== undefined ? `; mesh round trip ${hop.rttMs} ms` : ''}`);
  }
  return lines;
}

/** The whole report as lines for a terminal. */
export function formatRunReport(report: RunReport): string[] {
  const lines = [`report: ${report.workspace} (goal ${report.goal}; probes ${report.probes ? 'on' : 'off'}, validators ${report.validators ? 'on' : 'off'})`];
  lines.push(`  status: ${report.status.toUpperCase()}${report.error ? ` — ${report.error.message}` : ''}`);
  for (const task of report.tasks) {
    const rejected = task.rejectedCandidates.length ? `, rejected ${task.rejectedCandidates.join(', ')}` : '';
    lines.push(`  ${task.id} ${task.state.padEnd(6)} ${task.attempts} attempt(s), ${task.patches} patch(es)${rejected}: ${task.title}`);
  }
  lines.push(`  verification: ${report.verification.map((check) => `${check.name} ${check.passed ? 'passed' : 'FAILED'} (${check.isolation})`).join(', ') || 'not run'}`);
  for (const check of report.verification.filter((item) => !item.passed)) {
    for (const diagnostic of check.diagnostics.slice(0, 5)) lines.push(`    ${diagnostic.file}:${diagnostic.line} TS${diagnostic.code} ${diagnostic.message.split('\n')[0]}`);
    for (const failure of check.failures.slice(0, 5)) lines.push(`    ✗ ${failure.name}: ${failure.message.split('\n')[0]}`);
  }
  lines.push(`  patches: ${report.patches.length} (${[...new Set(report.patches.map((patch) => patch.file))].join(', ') || 'none'})`);
  if (report.applied.length) lines.push(`  applied to: ${report.applied.join(', ')}`);
  if (report.patchFile) lines.push(`  patch file: ${report.patchFile}`);
  lines.push(...metricsLines(report.metrics));
  return lines;
}

/** The before/after of grounding: both runs' numbers side by side. */
export function formatCompareReport(compare: CompareReport): string[] {
  const row = (label: string, pick: (report: RunReport) => string) => `  ${label.padEnd(26)} ${pick(compare.grounded).padEnd(22)} ${pick(compare.ungrounded)}`;
  const toolCalls = (report: RunReport) => String(Object.values(report.metrics.toolCalls).reduce((sum, kinds) => sum + Object.values(kinds).reduce((a, b) => a + b, 0), 0));
  return [
    'compare: grounded (probes + validators) vs ungrounded',
    `  ${''.padEnd(26)} ${'grounded'.padEnd(22)} ungrounded`,
    row('status', (report) => report.status),
    row('plan adherence', (report) => `${report.metrics.planAdherence.tasksDone}/${report.metrics.planAdherence.tasksPlanned}`),
    row('files outside the plan', (report) => String(report.metrics.planAdherence.filesOutsidePlan.length)),
    row('tool calls', toolCalls),
    row('retries', (report) => String(report.metrics.retries)),
    row('tokens in/out', (report) => `${report.metrics.tokens.input}/${report.metrics.tokens.output}`),
    row('wall time', (report) => `${report.metrics.totalMs} ms`),
  ];
}
