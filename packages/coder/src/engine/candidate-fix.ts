/**
 * Candidate fixes for one diagnostic: TypeScript's code fixes (and combined fixes where
 * TypeScript offers a fix-all), ranked, each with a stable id, and checked in memory.
 */
import * as crypto from 'node:crypto';
import ts from 'typescript';
import type { Diagnostic } from '@agentmesh/protocol';
import { rankCodeFix, type FixRanker } from './rank-code-fix';
import { fixPreferences, formatSettings, type WorkspaceLanguageService } from './workspace-language-service';

/** One way to fix a diagnostic, not yet applied. */
export interface CandidateFix {
  /** Stable across runs on the same text: `<file>#<code>/<fixName>/<hash of the edit>`. */
  id: string;
  fixName: string;
  description: string;
  /** The diagnostic it was offered for. */
  diagnostic: Diagnostic;
  /** Workspace-relative file → its text after the fix. */
  edits: ReadonlyMap<string, string>;
  score: number;
  /** True for a fix-all over the file (TypeScript's combined code fix). */
  combined: boolean;
}

/** Why a candidate was taken or passed over. */
export type CandidateVerdict = 'accepted' | 'rejected-before' | 'no-improvement' | 'new-diagnostics';

/** The compiler's judgement of a candidate. */
export interface CandidateCheck {
  verdict: Exclude<CandidateVerdict, 'rejected-before'>;
  /** Every error in the program with the candidate applied. */
  after: Diagnostic[];
}

/** Applies TypeScript text changes to a text, last change first so spans stay valid. */
export function applyTextChanges(text: string, changes: readonly ts.TextChange[]): string {
  const ordered = [...changes].sort((left, right) => right.span.start - left.span.start);
  let result = text;
  for (const change of ordered) {
    result = result.slice(0, change.span.start) + change.newText + result.slice(change.span.start + change.span.length);
  }
  return result;
}

function editsOf(workspace: WorkspaceLanguageService, changes: readonly ts.FileTextChanges[]): Map<string, string> {
  const edits = new Map<string, string>();
  for (const change of changes) {
    const file = workspace.relative(change.fileName);
    const before = edits.get(file) ?? (change.isNewFile ? '' : workspace.read(file) ?? '');
    edits.set(file, applyTextChanges(before, change.textChanges));
  }
  return edits;
}

function candidateId(diagnostic: Diagnostic, fixName: string, changes: readonly ts.FileTextChanges[], workspace: WorkspaceLanguageService): string {
  const edit = changes
    .map((change) => `${workspace.relative(change.fileName)}:${change.textChanges.map((textChange) => textChange.newText).join('\u0000')}`)
    .join('\n');
  const digest = crypto.createHash('sha1').update(`${diagnostic.message}\n${edit}`).digest('hex').slice(0, 10);
  return `${diagnostic.file}#${diagnostic.code}/${fixName}/${digest}`;
}

/** Options of collectCandidates. */
export interface CollectCandidatesOptions {
  workspace: WorkspaceLanguageService;
  /** The raw TypeScript diagnostic, with its position in the current text. */
  raw: ts.Diagnostic;
  diagnostic: Diagnostic;
  rank?: FixRanker;
}

/** Gathers TypeScript's code fixes for one diagnostic, best first (ties keep TypeScript's order). */
export function collectCandidates(options: CollectCandidatesOptions): CandidateFix[] {
  const { workspace, raw, diagnostic } = options;
  const rank = options.rank ?? rankCodeFix;
  const fileName = workspace.absolute(diagnostic.file);
  const start = raw.start ?? 0;
  const fixes = workspace.service.getCodeFixesAtPosition(fileName, start, start + (raw.length ?? 0), [raw.code], formatSettings, fixPreferences);
  const candidates: CandidateFix[] = [];
  const seenFixAll = new Set<string>();
  const add = (fixName: string, description: string, changes: readonly ts.FileTextChanges[], combined: boolean, bonus: number) => {
    const newText = changes.flatMap((change) => change.textChanges.map((textChange) => textChange.newText)).join('\n');
    candidates.push({
      id: candidateId(diagnostic, combined ? `${fixName}-all` : fixName, changes, workspace),
      fixName,
      description,
      diagnostic,
      edits: editsOf(workspace, changes),
      score: rank({ fixName, description, newText }) + bonus,
      combined,
    });
  };
  for (const fix of fixes) {
    add(fix.fixName, fix.description, fix.changes, false, 0);
    // TypeScript sets fixId only when a fix-all applies to more than this one place.
    if (fix.fixId !== undefined && !seenFixAll.has(String(fix.fixId))) {
      seenFixAll.add(String(fix.fixId));
      const combined = workspace.service.getCombinedCodeFix({ type: 'file', fileName }, fix.fixId, formatSettings, fixPreferences);
      if (combined.changes.length > 0) add(fix.fixName, fix.fixAllDescription ?? `${fix.description} (all in file)`, combined.changes, true, 1);
    }
  }
  return candidates
    .map((candidate, index) => ({ candidate, index }))
    .sort((left, right) => right.candidate.score - left.candidate.score || left.index - right.index)
    .map(({ candidate }) => candidate);
}

function countByKey(diagnostics: readonly Diagnostic[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const diagnostic of diagnostics) {
    // Positions move when text is inserted, so a diagnostic is known by what it says, where.
    const key = `${diagnostic.file}|${diagnostic.code}|${diagnostic.message}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** True when `after` holds a diagnostic `before` did not (counted per file, code and message). */
export function hasNewDiagnostics(before: readonly Diagnostic[], after: readonly Diagnostic[]): boolean {
  const previous = countByKey(before);
  for (const [key, count] of countByKey(after)) if (count > (previous.get(key) ?? 0)) return true;
  return false;
}

/**
 * Applies a candidate in memory and asks the compiler: it must leave fewer errors and no new
 * ones. An accepted candidate stays applied; any other is rolled back.
 */
export function checkCandidate(workspace: WorkspaceLanguageService, candidate: CandidateFix, before: readonly Diagnostic[]): CandidateCheck {
  const previous = new Map<string, string | undefined>();
  for (const [file, text] of candidate.edits) {
    previous.set(file, workspace.read(file));
    workspace.write(file, text);
  }
  const after = workspace.diagnostics();
  const verdict = hasNewDiagnostics(before, after) ? 'new-diagnostics' : after.length < before.length ? 'accepted' : 'no-improvement';
  if (verdict !== 'accepted') for (const [file, text] of previous) workspace.write(file, text ?? '');
  return { verdict, after };
}
