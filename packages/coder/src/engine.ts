/**
 * The coder's engine: ranked TypeScript code fixes as unified-diff patches, and the
 * model-provider contract. The service wiring in index.ts serves it over the mesh.
 */
export { implementTask, collectPatches, collectDiagnostics, applyBasePatches, extractUnifiedDiffs } from './engine/implement-task';
export type { ImplementTaskOptions } from './engine/implement-task';
export type { CoderEvent, CandidateReport } from './engine/coder-event';
export { collectCandidates, checkCandidate, applyTextChanges, hasNewDiagnostics } from './engine/candidate-fix';
export type { CandidateFix, CandidateCheck, CandidateVerdict, CollectCandidatesOptions } from './engine/candidate-fix';
export { rankCodeFix, fixNameScores, defaultFixScore } from './engine/rank-code-fix';
export type { FixRanker, RankableFix } from './engine/rank-code-fix';
export { createWorkspaceLanguageService, toDiagnostic } from './engine/workspace-language-service';
export type { WorkspaceLanguageService, WorkspaceLanguageServiceOptions } from './engine/workspace-language-service';
export { createUnifiedDiff, applyUnifiedDiff, splitHunks, diffTarget } from './engine/unified-diff';
export type { ModelProvider, ModelStreamOptions, ModelStreamPart } from './engine/model-provider';
export { createScriptedModelProvider } from './engine/scripted-model-provider';
export type { ScriptedModelProvider, ScriptedModelProviderOptions } from './engine/scripted-model-provider';
