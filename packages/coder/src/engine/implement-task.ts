/**
 * The coder's embedded brain: implements one task as unified-diff patches, using
 * TypeScript's own code fixes, ranked and checked by the compiler; a model provider only
 * for free-text tasks. It never writes the repository.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { parsePatch } from 'diff';
import { Code, MeshError, type Diagnostic, type Feedback, type Patch, type Task } from '@agentmesh/protocol';
import { checkCandidate, collectCandidates, type CandidateFix } from './candidate-fix';
import type { CandidateReport, CoderEvent } from './coder-event';
import type { ModelProvider } from './model-provider';
import type { FixRanker } from './rank-code-fix';
import { applyUnifiedDiff, createUnifiedDiff, diffTarget, splitHunks } from './unified-diff';
import { createWorkspaceLanguageService, type WorkspaceLanguageService } from './workspace-language-service';

/** Options of implementTask: one attempt at one task. */
export interface ImplementTaskOptions {
  /** Workspace root on disk; read, never written. */
  workspace: string;
  task: Task;
  /** Patches from earlier tasks, applied in memory first, in order. */
  basePatches?: readonly Patch[];
  /** Workspace-relative path → text, on top of disk and base patches. */
  overrides?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** The validator's findings on the previous attempt. */
  feedback?: Feedback;
  /** 1 on the first attempt. */
  attempt?: number;
  /** Candidate ids the validator rejected: never offered again. */
  rejectedCandidates?: readonly string[];
  /** Needed for free-text tasks only. */
  provider?: ModelProvider;
  /** Replaces the default ranking (rankCodeFix). */
  rank?: FixRanker;
  signal?: AbortSignal;
  logger?: Logger;
  /** Upper bound on fixes applied in one task. */
  maxFixes?: number;
}

const defaultLogger = pino({ name: 'coder-engine', level: process.env.LOG_LEVEL || 'info' });

function toMap(overrides: ImplementTaskOptions['overrides']): Map<string, string> {
  if (!overrides) return new Map();
  return overrides instanceof Map ? new Map(overrides) : new Map(Object.entries(overrides));
}

/** Reads the workspace's text for the base patches' files and applies them in order. */
export function applyBasePatches(workspace: string, patches: readonly Patch[], overrides = new Map<string, string>()): Map<string, string> {
  const files = new Map(overrides);
  for (const patch of patches) {
    const file = patch.file || diffTarget(patch.unifiedDiff);
    if (!file) throw new MeshError(Code.INVALID_ARGUMENT, `base patch ${patch.candidateId || patch.taskId} names no file`);
    const absolute = path.join(workspace, file);
    const current = files.get(file) ?? (fs.existsSync(absolute) ? fs.readFileSync(absolute, 'utf8') : '');
    try {
      files.set(file, applyUnifiedDiff(file, current, patch.unifiedDiff));
    } catch (error) {
      throw new MeshError(Code.FAILED_PRECONDITION, `base patch of task ${patch.taskId} ${(error as Error).message}`, { cause: error });
    }
  }
  return files;
}

/** Which diagnostics a task is about: its files (or its diagnostics' files); every file when it names none. */
function inScope(task: Task): (diagnostic: Diagnostic) => boolean {
  const files = new Set([...task.files, ...task.diagnostics.map((diagnostic) => diagnostic.file)].filter(Boolean));
  if (task.kind === 'make-tests-pass' || files.size === 0) return () => true;
  return (diagnostic) => files.has(diagnostic.file);
}

const keyOf = (diagnostic: Diagnostic) => `${diagnostic.file}|${diagnostic.code}|${diagnostic.message}`;

function* patchEvents(taskId: string, patchId: string, file: string, description: string, unifiedDiff: string, candidateId: string): Generator<CoderEvent> {
  yield { type: 'patch-start', id: patchId, file, description };
  for (const hunk of splitHunks(unifiedDiff)) yield { type: 'patch-delta', id: patchId, hunk };
  yield { type: 'patch-end', id: patchId, patch: { taskId, file, unifiedDiff, description, candidateId } };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Implements a task as a stream of events: the starting diagnostics, each ranked candidate
 * as the compiler judges it, then each accepted fix as a patch (start, hunks, end), and a
 * finish with usage. Patches of one call apply in the order they are streamed.
 */
export async function* implementTask(options: ImplementTaskOptions): AsyncGenerator<CoderEvent, void, undefined> {
  const { task } = options;
  const started = Date.now();
  const logger = (options.logger ?? defaultLogger).child({ taskId: task.id, attempt: options.attempt ?? 1 });
  const overrides = applyBasePatches(options.workspace, options.basePatches ?? [], toMap(options.overrides));
  if (task.kind === 'free-text') {
    yield* implementWithModel(options, overrides, started);
    return;
  }
  if (task.kind !== 'fix-diagnostics' && task.kind !== 'make-tests-pass' && task.kind !== '') {
    throw new MeshError(Code.INVALID_ARGUMENT, `task ${task.id} has kind '${task.kind}': the code-fix engine handles 'fix-diagnostics' and 'make-tests-pass'`);
  }
  const rejected = new Set(options.rejectedCandidates ?? []);
  const maxFixes = options.maxFixes ?? 50;
  const wanted = inScope(task);
  const workspace = createWorkspaceLanguageService({ workspace: options.workspace, overrides });
  const considered: string[] = [];
  let toolCalls = 0;
  let patchCount = 0;
  const givenUp = new Set<string>();
  try {
    let current = workspace.diagnostics();
    yield { type: 'diagnostics', taskId: task.id, diagnostics: current.filter(wanted) };
    for (let fixes = 0; fixes < maxFixes; fixes += 1) {
      const target = current.find((diagnostic) => wanted(diagnostic) && !givenUp.has(keyOf(diagnostic)));
      if (!target) break;
      const raw = workspace.rawDiagnostics(target.file).find((diagnostic) => diagnostic.code === target.code && diagnostic.start === target.start);
      const candidates = raw ? collectCandidates({ workspace, raw, diagnostic: target, rank: options.rank }) : [];
      toolCalls += 1;
      let accepted: { candidate: CandidateFix; before: Map<string, string> } | undefined;
      for (const candidate of candidates) {
        options.signal?.throwIfAborted();
        const report = (verdict: CandidateReport['verdict']): CoderEvent => {
          considered.push(`${candidate.id} score=${candidate.score} ${verdict}: ${candidate.description}`);
          return { type: 'candidate', taskId: task.id, candidate: { id: candidate.id, fixName: candidate.fixName, description: candidate.description, score: candidate.score, verdict, diagnostic: target } };
        };
        if (rejected.has(candidate.id)) {
          yield report('rejected-before');
          continue;
        }
        const before = new Map([...candidate.edits.keys()].map((file) => [file, workspace.read(file) ?? '']));
        const check = checkCandidate(workspace, candidate, current);
        toolCalls += 1;
        yield report(check.verdict);
        if (check.verdict === 'accepted') {
          current = check.after;
          accepted = { candidate, before };
          break;
        }
        await nextTurn();
      }
      if (!accepted) {
        logger.debug({ diagnostic: target, candidates: candidates.length }, 'no candidate fixes this diagnostic');
        givenUp.add(keyOf(target));
        continue;
      }
      for (const [file, text] of accepted.candidate.edits) {
        const unifiedDiff = createUnifiedDiff(file, accepted.before.get(file) ?? '', text);
        patchCount += 1;
        yield* patchEvents(task.id, `${task.id}-patch-${patchCount}`, file, accepted.candidate.description, unifiedDiff, accepted.candidate.id);
      }
      await nextTurn();
    }
    const unresolved = current.filter(wanted);
    logger.info({ patches: patchCount, unresolved: unresolved.length, durationMs: Date.now() - started }, 'task implemented');
    yield { type: 'finish', usage: { inputTokens: 0, outputTokens: 0, toolCalls, durationMs: Date.now() - started }, considered, unresolved };
  } finally {
    workspace.dispose();
  }
}

function promptFor(task: Task, files: ReadonlyMap<string, string>, feedback: Feedback | undefined): string {
  const sections = [
    `You change a TypeScript repository. Task ${task.id}: ${task.title}`,
    'Answer with unified diffs only, one per file, with "--- a/<file>" and "+++ b/<file>" headers, in a ```diff block.',
  ];
  for (const [file, text] of files) sections.push(`File ${file}:\n\`\`\`ts\n${text}\`\`\``);
  if (feedback && feedback.summary) sections.push(`The previous attempt failed validation: ${feedback.summary}`);
  return sections.join('\n\n');
}

/** Pulls the unified diffs out of a model's answer (inside ```diff fences, or the whole text). */
export function extractUnifiedDiffs(answer: string): string[] {
  const fenced = [...answer.matchAll(/```(?:diff|patch)?\n([\s\S]*?)```/g)].map((match) => match[1]);
  const text = fenced.length > 0 ? fenced.join('\n') : answer;
  return parsePatch(text)
    .filter((file) => file.hunks.length > 0)
    .map((file) => {
      const name = (file.newFileName ?? file.oldFileName ?? '').replace(/^[ab]\//, '');
      const body = file.hunks
        .map((hunk) => [`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`, ...hunk.lines].join('\n'))
        .join('\n');
      return `--- a/${name}\n+++ b/${name}\n${body}\n`;
    });
}

async function* implementWithModel(options: ImplementTaskOptions, overrides: Map<string, string>, started: number): AsyncGenerator<CoderEvent> {
  const { task, provider } = options;
  if (!provider) {
    throw new MeshError(
      Code.FAILED_PRECONDITION,
      `task ${task.id} is free text ("${task.title}"): a model provider is needed to implement it; configure one, or plan with a goal (typecheck, tests) the code-fix engine can do alone`,
    );
  }
  if (provider.specificationVersion !== 'v1') {
    throw new MeshError(Code.FAILED_PRECONDITION, `model provider ${provider.modelId} speaks specification ${String(provider.specificationVersion)}; the coder needs v1`);
  }
  const files = new Map<string, string>();
  for (const file of task.files) {
    const text = overrides.get(file) ?? (fs.existsSync(path.join(options.workspace, file)) ? fs.readFileSync(path.join(options.workspace, file), 'utf8') : '');
    files.set(file, text);
  }
  const textId = `${task.id}-text`;
  let answer = '';
  let inputTokens = 0;
  let outputTokens = 0;
  for await (const part of provider.stream({ prompt: promptFor(task, files, options.feedback), signal: options.signal })) {
    if (part.type === 'text-delta') {
      answer += part.delta;
      yield { type: 'text-delta', id: textId, delta: part.delta };
    } else if (part.type === 'usage') {
      inputTokens += part.usage.inputTokens;
      outputTokens += part.usage.outputTokens;
    } else if (part.type === 'error') {
      throw MeshError.from(part.error, Code.UNAVAILABLE);
    } else if (part.type === 'finish') {
      break;
    }
  }
  let patchCount = 0;
  const considered: string[] = [];
  for (const unifiedDiff of extractUnifiedDiffs(answer)) {
    const file = diffTarget(unifiedDiff) ?? '';
    const base = files.get(file) ?? overrides.get(file) ?? (fs.existsSync(path.join(options.workspace, file)) ? fs.readFileSync(path.join(options.workspace, file), 'utf8') : '');
    let after: string;
    try {
      after = applyUnifiedDiff(file, base, unifiedDiff);
    } catch (error) {
      yield { type: 'error', error: { code: 'INVALID_ARGUMENT', message: `the model's ${(error as Error).message}`, subject: task.id } };
      continue;
    }
    files.set(file, after);
    patchCount += 1;
    const candidateId = `${file}#model/${provider.modelId}/${options.attempt ?? 1}-${patchCount}`;
    considered.push(`${candidateId} from the model`);
    yield* patchEvents(task.id, `${task.id}-patch-${patchCount}`, file, `Model edit of ${file}`, createUnifiedDiff(file, base, after), candidateId);
  }
  yield { type: 'finish', usage: { inputTokens, outputTokens, toolCalls: 1, durationMs: Date.now() - started }, considered, unresolved: [] };
}

/** Drains implementTask and returns its patches, in order: for callers that do not stream. */
export async function collectPatches(events: AsyncIterable<CoderEvent>): Promise<Patch[]> {
  const patches: Patch[] = [];
  for await (const event of events) if (event.type === 'patch-end') patches.push(event.patch);
  return patches;
}

/** The errors TypeScript finds in a workspace (plus in-memory patches), for planning and reports. */
export function collectDiagnostics(workspace: string, basePatches: readonly Patch[] = []): Diagnostic[] {
  const service: WorkspaceLanguageService = createWorkspaceLanguageService({ workspace, overrides: applyBasePatches(workspace, basePatches) });
  try {
    return service.diagnostics();
  } finally {
    service.dispose();
  }
}
