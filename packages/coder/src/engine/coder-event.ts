/** The coder engine's event stream: a discriminated union with patch lifecycles keyed by id. */
import type { Diagnostic, EventError, Patch, Usage } from '@agentmesh/protocol';
import type { CandidateVerdict } from './candidate-fix';

/** A candidate as the engine judged it, streamed so reports can show the ranking. */
export interface CandidateReport {
  id: string;
  fixName: string;
  description: string;
  score: number;
  verdict: CandidateVerdict;
  /** The diagnostic it was offered for. */
  diagnostic: Diagnostic;
}

/** One event of implementTask. Patches stream as start, one delta per hunk, then end. */
export type CoderEvent =
  | { type: 'diagnostics'; taskId: string; diagnostics: Diagnostic[] }
  | { type: 'candidate'; taskId: string; candidate: CandidateReport }
  | { type: 'patch-start'; id: string; file: string; description: string }
  | { type: 'patch-delta'; id: string; hunk: string }
  | { type: 'patch-end'; id: string; patch: Patch }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'error'; error: EventError }
  | { type: 'finish'; usage: Usage; considered: string[]; unresolved: Diagnostic[] };
