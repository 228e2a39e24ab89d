/** Plans from a free-text request: a model writes a Spec Kit tasks.md, which is parsed like any other. */
import { Code, MeshError, type Plan, type ProbeResponse, type Usage } from '@agentmesh/protocol';
import type { PlannerModelProvider } from './model-provider';
import { planFromTasksMarkdown } from './parse-tasks-markdown';

/** Options of planFromFreeText. */
export interface PlanFromFreeTextOptions {
  text: string;
  provider?: PlannerModelProvider;
  /** Grounding to show the model. */
  probes?: readonly ProbeResponse[];
  signal?: AbortSignal;
  /** Called with each piece of the model's text as it streams. */
  onText?: (delta: string) => void;
}

/** The plan and what the model spent on it. */
export interface FreeTextPlan {
  plan: Plan;
  usage: Usage;
  markdown: string;
}

function promptFor(text: string, probes: readonly ProbeResponse[]): string {
  const grounding = probes.map((result) => `- ${result.kind}: ${result.summary}`).join('\n');
  return [
    'Plan this change to a TypeScript repository as a GitHub Spec Kit tasks.md.',
    "Use '## Phase N: Name' sections (Setup, Foundational, User Story N, Polish) and task lines like",
    "'- [ ] T001 [P] [US1] Description in src/file.ts'. Answer with the tasks.md only.",
    `Request: ${text}`,
    grounding ? `What the read-only probes found:\n${grounding}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

/**
 * Asks a model to plan a free-text request. Without a model provider there is no way to
 * read free text: a FAILED_PRECONDITION error that says so.
 */
export async function planFromFreeText(options: PlanFromFreeTextOptions): Promise<FreeTextPlan> {
  const started = Date.now();
  const { provider } = options;
  if (!provider) {
    throw new MeshError(
      Code.FAILED_PRECONDITION,
      'planning from free text needs a model provider, and none is configured: give a goal (typecheck, tests) or a Spec Kit tasks.md instead, or configure a model provider',
    );
  }
  let markdown = '';
  const usage: Usage = { inputTokens: 0, outputTokens: 0, toolCalls: 1, durationMs: 0 };
  for await (const part of provider.stream({ prompt: promptFor(options.text, options.probes ?? []), signal: options.signal })) {
    if (part.type === 'text-delta') {
      markdown += part.delta;
      options.onText?.(part.delta);
    } else if (part.type === 'usage') {
      usage.inputTokens += part.usage.inputTokens;
      usage.outputTokens += part.usage.outputTokens;
    } else if (part.type === 'error') {
      throw MeshError.from(part.error, Code.UNAVAILABLE);
    } else if (part.type === 'finish') {
      break;
    }
  }
  const fenced = /```(?:markdown|md)?\n([\s\S]*?)```/.exec(markdown);
  const plan = planFromTasksMarkdown(fenced ? fenced[1] : markdown);
  usage.durationMs = Date.now() - started;
  return { plan: { ...plan, goal: options.text }, usage, markdown };
}
