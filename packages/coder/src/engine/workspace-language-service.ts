/**
 * One TypeScript LanguageService over a workspace directory plus in-memory file overrides.
 * The coder never writes the repository: every candidate is tried here, in memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import ts from 'typescript';
import type { Diagnostic } from '@agentmesh/protocol';

/** Options of createWorkspaceLanguageService. */
export interface WorkspaceLanguageServiceOptions {
  /** Workspace root; tsconfig.json is looked up here. */
  workspace: string;
  /** Workspace-relative path → text, overriding what is on disk. */
  overrides?: ReadonlyMap<string, string>;
  /** Shared between calls so library files (lib.*.d.ts) are parsed once per process. */
  documentRegistry?: ts.DocumentRegistry;
}

/** The language service with the file state it sees, editable in memory. */
export interface WorkspaceLanguageService {
  readonly service: ts.LanguageService;
  readonly workspace: string;
  /** Workspace-relative paths of the program's own (non-library) source files. */
  sourceFiles(): string[];
  /** Current text of a workspace file (override first, then disk); undefined if absent. */
  read(file: string): string | undefined;
  /** Replaces a file's text in memory; the next query sees it. */
  write(file: string, text: string): void;
  /** Workspace-relative files whose text differs from disk. */
  changedFiles(): string[];
  /** Syntactic and semantic errors of the given files (all source files by default). */
  diagnostics(files?: readonly string[]): Diagnostic[];
  /** The raw TypeScript diagnostics of one file, for code fixes. */
  rawDiagnostics(file: string): ts.Diagnostic[];
  absolute(file: string): string;
  relative(fileName: string): string;
  dispose(): void;
}

const sharedRegistry = ts.createDocumentRegistry();

/** Indentation and spacing for the text code fixes insert. */
export const formatSettings: ts.FormatCodeSettings = {
  ...ts.getDefaultFormatCodeSettings('\n'),
  indentSize: 2,
  tabSize: 2,
  convertTabsToSpaces: true,
  semicolons: ts.SemicolonPreference.Insert,
};

/** Preferences for code fixes: relative, shortest module specifiers, single quotes detected from the file. */
export const fixPreferences: ts.UserPreferences = {
  importModuleSpecifierPreference: 'relative',
  quotePreference: 'auto',
  includeCompletionsForModuleExports: true,
};

function hash(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/** Reads the workspace's tsconfig.json; without one, every .ts file under the root with strict defaults. */
function readProjectConfig(workspace: string, files: Map<string, string>): ts.ParsedCommandLine {
  const configPath = path.join(workspace, 'tsconfig.json');
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    readFile: (fileName) => files.get(path.resolve(fileName)) ?? ts.sys.readFile(fileName),
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(`cannot read ${configPath}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    },
  };
  if (fs.existsSync(configPath) || files.has(configPath)) {
    const parsed = ts.getParsedCommandLineOfConfigFile(configPath, { noEmit: true }, host);
    if (!parsed) throw new Error(`cannot read ${configPath}`);
    return parsed;
  }
  const fileNames = ts.sys.readDirectory(workspace, ['.ts', '.tsx'], ['**/node_modules', '**/dist', '**/.git']);
  return { options: { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, noEmit: true }, fileNames, errors: [] };
}

/** Converts a TypeScript diagnostic into the wire Diagnostic, positions 1-based. */
export function toDiagnostic(diagnostic: ts.Diagnostic, relative: (fileName: string) => string): Diagnostic {
  const file = diagnostic.file;
  const start = diagnostic.start ?? 0;
  const position = file ? file.getLineAndCharacterOfPosition(start) : undefined;
  return {
    file: file ? relative(file.fileName) : '',
    line: position ? position.line + 1 : 0,
    column: position ? position.character + 1 : 0,
    code: diagnostic.code,
    message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
    category: ts.DiagnosticCategory[diagnostic.category].toLowerCase(),
    start,
    length: diagnostic.length ?? 0,
  };
}

/** Creates the in-memory language service the coder tries its candidates in. */
export function createWorkspaceLanguageService(options: WorkspaceLanguageServiceOptions): WorkspaceLanguageService {
  const workspace = path.resolve(options.workspace);
  const absolute = (file: string) => path.resolve(workspace, file);
  const relative = (fileName: string) => path.relative(workspace, fileName).split(path.sep).join('/');
  const memory = new Map<string, string>();
  for (const [file, text] of options.overrides ?? []) memory.set(absolute(file), text);
  const diskCache = new Map<string, string | undefined>();
  const readDisk = (fileName: string) => {
    if (!diskCache.has(fileName)) diskCache.set(fileName, ts.sys.readFile(fileName));
    return diskCache.get(fileName);
  };
  const readAbsolute = (fileName: string) => memory.get(fileName) ?? readDisk(fileName);
  const config = readProjectConfig(workspace, memory);
  const rootNames = new Set(config.fileNames.map((fileName) => path.resolve(fileName)));
  for (const fileName of memory.keys()) if (/\.tsx?$/.test(fileName)) rootNames.add(fileName);
  let projectVersion = 0;

  const host: ts.LanguageServiceHost = {
    getProjectVersion: () => String(projectVersion),
    getScriptFileNames: () => [...rootNames],
    getScriptVersion: (fileName) => {
      const text = readAbsolute(fileName);
      return text === undefined ? 'missing' : hash(text);
    },
    getScriptSnapshot: (fileName) => {
      const text = readAbsolute(fileName);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => workspace,
    getCompilationSettings: () => config.options,
    getDefaultLibFileName: (compilerOptions) => ts.getDefaultLibFilePath(compilerOptions),
    fileExists: (fileName) => memory.has(path.resolve(fileName)) || ts.sys.fileExists(fileName),
    readFile: (fileName) => readAbsolute(path.resolve(fileName)),
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
    useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
  };
  const service = ts.createLanguageService(host, options.documentRegistry ?? sharedRegistry);
  const isOwnSource = (sourceFile: ts.SourceFile) =>
    !sourceFile.fileName.includes('/node_modules/') && relative(sourceFile.fileName).split('/')[0] !== '..';

  const rawDiagnostics = (file: string): ts.Diagnostic[] => {
    const fileName = absolute(file);
    return [...service.getSyntacticDiagnostics(fileName), ...service.getSemanticDiagnostics(fileName)];
  };

  return {
    service,
    workspace,
    sourceFiles: () => {
      const program = service.getProgram();
      if (!program) return [];
      return program.getSourceFiles().filter(isOwnSource).map((sourceFile) => relative(sourceFile.fileName));
    },
    read: (file) => readAbsolute(absolute(file)),
    write: (file, text) => {
      const fileName = absolute(file);
      memory.set(fileName, text);
      if (/\.tsx?$/.test(fileName)) rootNames.add(fileName);
      projectVersion += 1;
    },
    changedFiles: () => [...memory.entries()].filter(([fileName, text]) => readDisk(fileName) !== text).map(([fileName]) => relative(fileName)),
    diagnostics(files) {
      const program = service.getProgram();
      const targets = files ?? this.sourceFiles();
      const result: Diagnostic[] = [];
      for (const diagnostic of program ? program.getGlobalDiagnostics() : []) result.push(toDiagnostic(diagnostic, relative));
      for (const file of targets) {
        for (const diagnostic of rawDiagnostics(file)) {
          if (diagnostic.category === ts.DiagnosticCategory.Error) result.push(toDiagnostic(diagnostic, relative));
        }
      }
      return result;
    },
    rawDiagnostics,
    absolute,
    relative,
    dispose: () => service.dispose(),
  };
}
