// Shape checks for the benchmark hooks; no timing is asserted (the machine is noisy and shared).
import { detectIsolation, measureColdStart, median } from '@agentmesh/sandbox';

test.each(['fresh-isolate', 'pooled-isolate', 'worker-thread', 'node-process', 'bubblewrap-node'] as const)('%s yields samples with time and memory', async (kind) => {
  const measurement = await measureColdStart(kind, { samples: 2, pauseMs: 10 });
  if (measurement.skipped) {
    console.warn(`${kind}: ${measurement.skipped}`);
    expect(kind).toBe('bubblewrap-node');
    return;
  }
  expect(measurement.samples).toHaveLength(2);
  for (const sample of measurement.samples) {
    expect(sample.ms).toBeGreaterThan(0);
    expect(sample.memoryBytes).toBeGreaterThan(0);
  }
  expect(typeof measurement.p50Ms).toBe('number');
  expect(measurement.memorySource.length).toBeGreaterThan(0);
});

test('docker is skipped with the reason when no engine answers', async () => {
  const measurement = await measureColdStart('docker', { samples: 1 });
  if (detectIsolation({ docker: true }).docker.available) return;
  expect(measurement.skipped).toMatch(/^skipped: no Docker engine/);
  expect(measurement.samples).toEqual([]);
});

test('median', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 2, 3])).toBe(2.5);
});
