/**
 * The validator's engine: read-only probes, patched copies of a workspace, and parsers for
 * the checks' output. The service wiring in index.ts serves it and runs the checks.
 */
export { runProbe, runAllProbes, probeTree, probePackage, probeTsconfig, probeTestRunner, probeDiagnostics, probeGit, probeKinds } from './engine/run-probe';
export type { ProbeKind, ProbeOptions, ProbeResult } from './engine/run-probe';
export { createPatchedWorkspace, applyPatches, copyWorkspace, PatchApplyError } from './engine/create-patched-workspace';
export type { PatchedWorkspace, PatchedWorkspaceOptions } from './engine/create-patched-workspace';
export { parseTscOutput } from './engine/parse-tsc-output';
export { parseTestOutput } from './engine/parse-test-output';
export type { ParseTestOutputOptions } from './engine/parse-test-output';
export { treeDigest } from './engine/tree-digest';
export type { TreeDigestOptions } from './engine/tree-digest';
