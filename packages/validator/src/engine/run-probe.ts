/**
 * Read-only probes of a repository, the grounding a planner gets before it plans. No
 * probe writes: files are only read, TypeScript builds a program without emitting, and git
 * runs with --no-optional-locks so even its index stays untouched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import ts from 'typescript';
import type { Diagnostic, ProbeResponse } from '@agentmesh/protocol';

/** The probes there are. */
export const probeKinds = ['tree', 'package', 'tsconfig', 'test-runner', 'diagnostics', 'git'] as const;
export type ProbeKind = (typeof probeKinds)[number];

/** A probe's result: the wire ProbeResponse, JSON findings as a string. */
export type ProbeResult = ProbeResponse;

/** Options of the probes. */
export interface ProbeOptions {
  /** Most files the tree probe lists. */
  maxFiles?: number;
  /** Time limit of the git probe. */
  gitTimeoutMs?: number;
  signal?: AbortSignal;
}

const ignoredDirectories = new Set(['node_modules', '.git', 'dist']);

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function result(kind: ProbeKind, started: number, summary: string, findings: unknown, diagnostics: Diagnostic[] = []): ProbeResult {
  return { kind, summary, json: JSON.stringify(findings), diagnostics, durationMs: Math.max(0, Math.round(performance.now() - started)) };
}

/** Lists the repository's files (workspace-relative, sorted), skipping node_modules, .git and dist. */
export function probeTree(workspace: string, options: ProbeOptions = {}): ProbeResult {
  const started = performance.now();
  const maxFiles = options.maxFiles ?? 5000;
  const files: string[] = [];
  let truncated = false;
  const walk = (directory: string) => {
    for (const entry of fs.readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (files.length >= maxFiles) {
        truncated = true;
        return;
      }
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) {
        if (!ignoredDirectories.has(entry.name)) walk(full);
      } else if (entry.isFile()) {
        files.push(path.relative(workspace, full).split(path.sep).join('/'));
      }
    }
  };
  walk(workspace);
  const typescriptFiles = files.filter((file) => /\.tsx?$/.test(file)).length;
  return result('tree', started, `${files.length}${truncated ? '+' : ''} files, ${typescriptFiles} TypeScript`, { files, truncated });
}

/** Reads package.json: name, scripts and dependencies. */
export function probePackage(workspace: string): ProbeResult {
  const started = performance.now();
  const file = path.join(workspace, 'package.json');
  if (!fs.existsSync(file)) return result('package', started, 'no package.json', { present: false });
  const manifest = readJson(file) as Record<string, unknown>;
  const scripts = (manifest.scripts ?? {}) as Record<string, string>;
  const dependencies = (manifest.dependencies ?? {}) as Record<string, string>;
  const devDependencies = (manifest.devDependencies ?? {}) as Record<string, string>;
  const findings = { present: true, name: manifest.name ?? '', version: manifest.version ?? '', scripts, dependencies, devDependencies };
  const names = Object.keys(scripts);
  return result('package', started, `${String(manifest.name ?? '(unnamed)')}: scripts ${names.length ? names.join(', ') : 'none'}; ${Object.keys(dependencies).length} dependencies, ${Object.keys(devDependencies).length} dev`, findings);
}

function readTsconfig(workspace: string): { path: string; parsed: ts.ParsedCommandLine } | undefined {
  const file = path.join(workspace, 'tsconfig.json');
  if (!fs.existsSync(file)) return undefined;
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(`cannot read ${file}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(file, { noEmit: true }, host);
  return parsed ? { path: file, parsed } : undefined;
}

/** Reads tsconfig.json as TypeScript resolves it: the options that matter and the files it includes. */
export function probeTsconfig(workspace: string): ProbeResult {
  const started = performance.now();
  const config = readTsconfig(workspace);
  if (!config) return result('tsconfig', started, 'no tsconfig.json', { present: false });
  const { options, fileNames } = config.parsed;
  const files = fileNames.map((fileName) => path.relative(workspace, fileName).split(path.sep).join('/'));
  const findings = {
    present: true,
    target: options.target === undefined ? '' : ts.ScriptTarget[options.target],
    module: options.module === undefined ? '' : ts.ModuleKind[options.module],
    strict: options.strict ?? false,
    rootDir: options.rootDir ? path.relative(workspace, options.rootDir) : '',
    outDir: options.outDir ? path.relative(workspace, options.outDir) : '',
    files,
  };
  return result('tsconfig', started, `${files.length} files, target ${findings.target || 'default'}, strict ${findings.strict}`, findings);
}

/** Which test runner the repository uses, from its test script, the files it runs and its dependencies. */
export function probeTestRunner(workspace: string): ProbeResult {
  const started = performance.now();
  const manifestFile = path.join(workspace, 'package.json');
  const manifest = fs.existsSync(manifestFile) ? (readJson(manifestFile) as Record<string, Record<string, string> | undefined>) : {};
  const script = manifest.scripts?.test ?? '';
  const dependencies = { ...(manifest.dependencies ?? {}), ...(manifest.devDependencies ?? {}) };
  // The test script may hand off to a local script file; look inside it too.
  const scriptFile = /^node\s+(\S+\.[cm]?js)\b/.exec(script)?.[1];
  const scriptText = scriptFile && fs.existsSync(path.join(workspace, scriptFile)) ? fs.readFileSync(path.join(workspace, scriptFile), 'utf8') : '';
  const haystack = `${script}\n${scriptText}`;
  const runners: Array<[string, boolean]> = [
    ['jest', /\bjest\b/.test(script) || 'jest' in dependencies],
    ['vitest', /\bvitest\b/.test(script) || 'vitest' in dependencies],
    ['mocha', /\bmocha\b/.test(script) || 'mocha' in dependencies],
    ['ava', /\bava\b/.test(script) || 'ava' in dependencies],
    ['node-test', /--test\b|['"]--test['"]/.test(haystack)],
  ];
  const runner = runners.find(([, found]) => found)?.[0] ?? (script ? 'unknown' : 'none');
  const findings = { runner, script, scriptFile: scriptFile ?? '', command: script ? ['npm', 'test'] : [] };
  return result('test-runner', started, script ? `${runner} via "npm test" (${script})` : 'no test script', findings);
}

/** TypeScript's errors in the project, from a program that is built but never emitted. */
export function probeDiagnostics(workspace: string): ProbeResult {
  const started = performance.now();
  const config = readTsconfig(workspace);
  const fileNames = config?.parsed.fileNames ?? ts.sys.readDirectory(workspace, ['.ts', '.tsx'], ['**/node_modules', '**/dist', '**/.git']);
  const options: ts.CompilerOptions = { ...(config?.parsed.options ?? { strict: true }), noEmit: true, incremental: false, composite: false, tsBuildInfoFile: undefined };
  const program = ts.createProgram({ rootNames: fileNames, options });
  const relative = (fileName: string) => path.relative(workspace, fileName).split(path.sep).join('/');
  const diagnostics: Diagnostic[] = ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error)
    .map((diagnostic) => {
      const position = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined;
      return {
        file: diagnostic.file ? relative(diagnostic.file.fileName) : '',
        line: position ? position.line + 1 : 0,
        column: position ? position.character + 1 : 0,
        code: diagnostic.code,
        message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
        category: 'error',
        start: diagnostic.start ?? 0,
        length: diagnostic.length ?? 0,
      };
    });
  const files = [...new Set(diagnostics.map((diagnostic) => diagnostic.file))];
  const summary = diagnostics.length === 0 ? `no type errors in ${fileNames.length} files` : `${diagnostics.length} type errors in ${files.length} files`;
  return result('diagnostics', started, summary, { count: diagnostics.length, files, checkedFiles: fileNames.length }, diagnostics);
}

function git(workspace: string, args: string[], options: ProbeOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['--no-optional-locks', '-C', workspace, ...args],
      { timeout: options.gitTimeoutMs ?? 10_000, signal: options.signal, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' } },
      (error, stdout, stderr) => (error ? reject(new Error(`git ${args.join(' ')} failed: ${stderr.trim() || error.message}`)) : resolve(stdout)),
    );
  });
}

/** The branch and changed files, when the workspace is a git repository (it has a .git). */
export async function probeGit(workspace: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const started = performance.now();
  if (!fs.existsSync(path.join(workspace, '.git'))) return result('git', started, 'not a git repository', { repository: false });
  const output = await git(workspace, ['status', '--porcelain=v1', '--branch', '--untracked-files=all'], options);
  const lines = output.split('\n').filter(Boolean);
  const branchLine = lines.find((line) => line.startsWith('## '));
  const branch = branchLine ? branchLine.slice(3).split('...')[0].replace(/^No commits yet on /, '') : '';
  const changes = lines.filter((line) => !line.startsWith('## ')).map((line) => ({ status: line.slice(0, 2).trim(), file: line.slice(3) }));
  return result('git', started, `on ${branch || '(detached)'}, ${changes.length === 0 ? 'clean' : `${changes.length} changed files`}`, { repository: true, branch, changes });
}

/** Runs one probe by kind; an unknown kind is an error naming the kinds there are. */
export async function runProbe(workspace: string, kind: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const root = path.resolve(workspace);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`workspace ${workspace} is not a directory`);
  switch (kind) {
    case 'tree':
      return probeTree(root, options);
    case 'package':
      return probePackage(root);
    case 'tsconfig':
      return probeTsconfig(root);
    case 'test-runner':
      return probeTestRunner(root);
    case 'diagnostics':
      return probeDiagnostics(root);
    case 'git':
      return probeGit(root, options);
    default:
      throw new Error(`unknown probe kind '${kind}': expected one of ${probeKinds.join(', ')}`);
  }
}

/** Runs every probe in order, for a planner that wants all the grounding there is. */
export async function runAllProbes(workspace: string, options: ProbeOptions = {}): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const kind of probeKinds) results.push(await runProbe(workspace, kind, options));
  return results;
}
