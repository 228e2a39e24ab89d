/**
 * gRPC status codes: the closed set of outcomes every agentmesh call ends with,
 * whatever transport carried it.
 */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** The status name of a code, such as "DEADLINE_EXCEEDED", for messages and logs. */
export function codeName(code: Code): string {
  return Code[code] ?? `CODE_${code}`;
}

/** Parses a code from its number or name; undefined when it is neither. */
export function parseCode(value: string | number): Code | undefined {
  if (typeof value === 'number') return value in Code && Number.isInteger(value) ? (value as Code) : undefined;
  const byName = (Code as unknown as Record<string, number>)[value.toUpperCase()];
  if (typeof byName === 'number') return byName as Code;
  const asNumber = Number(value);
  return value.trim() !== '' && Number.isInteger(asNumber) && asNumber in Code ? (asNumber as Code) : undefined;
}
