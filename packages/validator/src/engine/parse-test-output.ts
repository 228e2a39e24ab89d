/** Parses Node's built-in test runner output, TAP or spec reporter, into TestFailures. */
import type { TestFailure } from '@agentmesh/protocol';

/** Options of parseTestOutput. */
export interface ParseTestOutputOptions {
  /** Workspace root, stripped from file paths so they are workspace-relative. */
  root?: string;
}

function relativeTo(root: string | undefined): (file: string) => string {
  const prefix = root?.replace(/\\/g, '/').replace(/\/?$/, '/');
  return (file) => {
    const normalized = file.replace(/\\/g, '/').replace(/^file:\/\//, '');
    return prefix && normalized.startsWith(prefix) ? normalized.slice(prefix.length) : normalized;
  };
}

const unquote = (value: string) => value.replace(/^'(.*)'$/, '$1').replace(/''/g, "'");
const fileOfLocation = (location: string) => location.replace(/:\d+:\d+$/, '');

function parseTap(output: string, relative: (file: string) => string): TestFailure[] {
  const lines = output.split(/\r?\n/);
  const failures: TestFailure[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const match = /^(\s*)not ok \d+ - (.*?)(?:\s+#\s*(?:TODO|SKIP).*)?$/.exec(lines[index]);
    if (!match) continue;
    const indent = match[1].length + 2;
    const fields = new Map<string, string>();
    if (lines[index + 1]?.trim() === '---') {
      let cursor = index + 2;
      while (cursor < lines.length && lines[cursor].trim() !== '...') {
        const field = new RegExp(`^\\s{${indent}}(\\w+):\\s?(.*)$`).exec(lines[cursor]);
        if (field) {
          const [, key, value] = field;
          if (value === '|-' || value === '|' || value === '>-') {
            const block: string[] = [];
            while (cursor + 1 < lines.length && (lines[cursor + 1].startsWith(' '.repeat(indent + 2)) || lines[cursor + 1].trim() === '')) {
              cursor += 1;
              block.push(lines[cursor].slice(indent + 2));
            }
            fields.set(key, block.join('\n').trimEnd());
          } else {
            fields.set(key, unquote(value));
          }
        }
        cursor += 1;
      }
      index = cursor;
    }
    // A suite fails when its tests do; those tests are reported themselves.
    if (fields.get('failureType') === 'subtestsFailed') continue;
    failures.push({
      name: match[2],
      file: fields.has('location') ? relative(fileOfLocation(fields.get('location') ?? '')) : '',
      message: fields.get('error') ?? fields.get('failureType') ?? 'failed',
    });
  }
  return failures;
}

function parseSpec(output: string, relative: (file: string) => string): TestFailure[] {
  const lines = output.split(/\r?\n/);
  const summary = lines.findIndex((line) => /^✖ failing tests:/.test(line));
  const start = summary >= 0 ? summary + 1 : 0;
  const failures: TestFailure[] = [];
  let location = '';
  for (let index = start; index < lines.length; index += 1) {
    const at = /^\s*test at (.+:\d+:\d+)$/.exec(lines[index]);
    if (at) {
      location = at[1];
      continue;
    }
    const failed = /^(\s*)✖ (.*?)(?: \([\d.]+m?s\))?$/.exec(lines[index]);
    if (!failed || /^failing tests:/.test(failed[2])) continue;
    const message: string[] = [];
    while (index + 1 < lines.length && lines[index + 1].startsWith(`${failed[1]}  `) && !/^\s*at /.test(lines[index + 1])) {
      index += 1;
      message.push(lines[index].trim());
    }
    while (index + 1 < lines.length && lines[index + 1].startsWith(`${failed[1]}  `)) index += 1;
    const text = message.join('\n').trim();
    // A suite line without its own error is the parent of failures listed on their own.
    if (text === '' && summary < 0) continue;
    failures.push({ name: failed[2], file: location ? relative(fileOfLocation(location)) : '', message: text || 'failed' });
    location = '';
  }
  return failures;
}

/**
 * Finds the failing tests in the output of `node --test` (TAP, Node's default off a
 * terminal, or the spec reporter), with their names, files and messages.
 */
export function parseTestOutput(output: string, options: ParseTestOutputOptions = {}): TestFailure[] {
  const relative = relativeTo(options.root);
  if (/^\s*(not )?ok \d+ - /m.test(output)) return parseTap(output, relative);
  return parseSpec(output, relative);
}
