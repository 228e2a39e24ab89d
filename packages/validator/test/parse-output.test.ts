import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTestOutput, parseTscOutput } from '../src/engine';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');

describe('parseTscOutput', () => {
  test('reads file, line, column, code and multi-line messages', () => {
    const diagnostics = parseTscOutput(fixture('tsc-pretty-false.txt'));
    expect(diagnostics).toHaveLength(5);
    expect(diagnostics[0]).toEqual({
      file: 'src/memory-sink.ts',
      line: 5,
      column: 14,
      code: 2420,
      category: 'error',
      message: "Class 'MemorySink' incorrectly implements interface 'Sink'.\nProperty 'close' is missing in type 'MemorySink' but required in type 'Sink'.",
      start: 0,
      length: 0,
    });
    expect(diagnostics.map((diagnostic) => diagnostic.code)).toEqual([2420, 2552, 2339, 2339, 2304]);
  });

  test('global errors and absolute paths under a root', () => {
    const output = "error TS5023: Unknown compiler option 'strictest'.\n/repo/src/a.ts(1,2): error TS1005: ';' expected.\n";
    expect(parseTscOutput(output, { root: '/repo' })).toEqual([
      { file: '', line: 0, column: 0, code: 5023, category: 'error', message: "Unknown compiler option 'strictest'.", start: 0, length: 0 },
      { file: 'src/a.ts', line: 1, column: 2, code: 1005, category: 'error', message: "';' expected.", start: 0, length: 0 },
    ]);
  });
});

describe('parseTestOutput', () => {
  const expected = [
    { name: 'balance adds up every entry', file: 'dist/test/ledger.test.js', message: expect.stringContaining('sum is not defined') },
    { name: 'meanEntry is the rounded mean of the entries', file: 'dist/test/ledger.test.js', message: expect.stringContaining('averge is not defined') },
    { name: 'summarize uses the configured title and currency', file: 'dist/test/ledger.test.js', message: expect.stringContaining("- 'Household: 3 entries, 1596.50 USD'") },
  ];

  test("node's TAP output", () => {
    expect(parseTestOutput(fixture('node-test-tap.txt'), { root: '/srv/ledger' })).toEqual(expected);
  });

  test("node's spec reporter output", () => {
    const failures = parseTestOutput(fixture('node-test-spec.txt'));
    expect(failures).toEqual(expected);
    expect(failures[2].message).not.toMatch(/\bat TestContext/);
  });

  test('nested suites report their failing tests, not the suite', () => {
    const output = [
      '# Subtest: ledger',
      '    # Subtest: adds',
      '    not ok 1 - adds',
      '      ---',
      "      location: '/r/t.js:3:5'",
      "      failureType: 'testCodeFailure'",
      "      error: 'expected 3, got 4'",
      '      ...',
      '    1..1',
      'not ok 1 - ledger',
      '  ---',
      "  failureType: 'subtestsFailed'",
      "  error: '1 subtest failed'",
      '  ...',
      '1..1',
    ].join('\n');
    expect(parseTestOutput(output, { root: '/r' })).toEqual([{ name: 'adds', file: 't.js', message: 'expected 3, got 4' }]);
  });

  test('a passing run has no failures', () => {
    expect(parseTestOutput('ok 1 - a\nok 2 - b\n1..2\n# pass 2\n# fail 0\n')).toEqual([]);
  });
});
