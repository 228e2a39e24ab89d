// The child's environment starts empty: a fixed base (PATH of trusted dirs, HOME, locale) plus
// only allowlisted names from the request. Loader and interpreter hooks are refused by name.

/** Names a request may pass through by default. */
export const DEFAULT_ENV_ALLOWLIST: readonly string[] = [
  'NODE_ENV', 'CI', 'FORCE_COLOR', 'NO_COLOR', 'TERM', 'TZ', 'LANG', 'LC_ALL', 'DEBUG', 'LOG_LEVEL', 'JEST_WORKER_ID',
];

const DENIED_EXACT = new Set([
  'PATH', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_REPL_EXTERNAL_MODULE', 'NODE_EXTRA_CA_CERTS', 'BASH_ENV', 'ENV', 'IFS',
  'PS4', 'SHELLOPTS', 'BASHOPTS', 'CDPATH', 'GLOBIGNORE', 'PROMPT_COMMAND', 'PERL5OPT', 'PERL5LIB', 'PYTHONSTARTUP',
  'PYTHONPATH', 'PYTHONHOME', 'RUBYOPT', 'RUBYLIB', 'GCONV_PATH', 'HOSTALIASES', 'LOCALDOMAIN', 'RES_OPTIONS',
  'TMPDIR', 'HOME', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'GIT_CONFIG_GLOBAL', 'EDITOR', 'VISUAL', 'PAGER',
  'npm_config_script_shell', 'NPM_CONFIG_SCRIPT_SHELL',
]);
const DENIED_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'MALLOC_', 'GLIBC_TUNABLES', 'UV_'];

/** Says why an environment name can never be set for a sandboxed process, or undefined if it could be. */
export function deniedEnvReason(name: string): string | undefined {
  if (DENIED_EXACT.has(name)) {
    return `environment variable ${name} is refused: it changes which code the child loads or runs (the sandbox sets PATH, HOME and TMPDIR itself)`;
  }
  const prefix = DENIED_PREFIXES.find((candidate) => name.startsWith(candidate));
  if (prefix) return `environment variable ${name} is refused: ${prefix}* variables hook the loader, allocator or runtime`;
  return undefined;
}

export interface BaseEnvironmentOptions {
  readonly pathDirs: readonly string[];
  readonly home: string;
  readonly tmpdir: string;
}

/** The environment every sandboxed process starts from; nothing is inherited from the caller. */
export function baseEnvironment(options: BaseEnvironmentOptions): Record<string, string> {
  return {
    PATH: options.pathDirs.join(':'),
    HOME: options.home,
    TMPDIR: options.tmpdir,
    LANG: 'C.UTF-8',
  };
}
