import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balance, formatCents, meanEntry, MemorySink, summarize, type Entry } from '../src/index';

const entries: Entry[] = [
  { description: 'coffee', cents: -350 },
  { description: 'salary', cents: 250000 },
  { description: 'rent', cents: -90000 },
];

test('formatCents writes cents as a decimal amount with its currency', () => {
  assert.equal(formatCents(123456, 'EUR'), '1234.56 EUR');
  assert.equal(formatCents(-5, 'USD'), '-0.05 USD');
});

test('balance adds up every entry', () => {
  assert.equal(balance(entries), 159650);
});

test('meanEntry is the rounded mean of the entries', () => {
  assert.equal(meanEntry(entries), 53217);
});

test('summarize uses the configured title and currency', async () => {
  assert.equal(await summarize(entries, { currency: 'USD', title: 'Household' }), 'Household: 3 entries, 1596.50 USD');
});

test('MemorySink keeps lines in order', () => {
  const sink = new MemorySink();
  sink.write('first');
  sink.write('second');
  assert.deepEqual(sink.lines(), ['first', 'second']);
});
