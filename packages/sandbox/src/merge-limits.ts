// One rule for both sandboxes: a request may lower the configured limits, never raise them.

/** Merges a request's limits into the ceiling; returns the merged limits or a message naming the bad one. */
export function mergeLimits<T extends object>(ceiling: T, requested: Partial<T> | undefined, what: string): T | string {
  const merged: Record<string, number> = { ...(ceiling as Record<string, number>) };
  for (const [key, value] of Object.entries(requested ?? {}) as [string, unknown][]) {
    if (value === undefined) continue;
    if (!(key in ceiling)) return `unknown ${what} limit ${JSON.stringify(key)}`;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return `${what} limit ${key} must be a positive number; got ${String(value)}`;
    const cap = merged[key]!;
    if (value > cap) return `${what} limit ${key}=${value} is above the configured ceiling ${cap}; a request may only lower limits`;
    merged[key] = value;
  }
  return merged as T;
}
