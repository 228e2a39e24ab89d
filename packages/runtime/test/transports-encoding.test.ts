// The unary transport's whole-stream encoding and the error-details trailer.
import { Code, MeshError } from '@agentmesh/protocol';
import { codeFromHttpStatus, decodeErrorDetails, decodeLengthPrefixed, encodeErrorDetails, encodeLengthPrefixed, httpStatusFromCode } from '../src/transports';

test('length-prefixed concatenation round-trips, empty items included', () => {
  const items = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 3)];
  const decoded = decodeLengthPrefixed(encodeLengthPrefixed(items));
  expect(decoded.map((d) => Buffer.from(d))).toEqual(items);
  expect(decodeLengthPrefixed(encodeLengthPrefixed([]))).toEqual([]);
});

test('a truncated length-prefixed buffer is DATA_LOSS', () => {
  const encoded = encodeLengthPrefixed([Buffer.from('hello')]);
  expect(() => decodeLengthPrefixed(encoded.subarray(0, 6))).toThrow(MeshError);
  try {
    decodeLengthPrefixed(encoded.subarray(0, 6));
  } catch (error) {
    expect((error as MeshError).code).toBe(Code.DATA_LOSS);
  }
});

test('error details round-trip through the trailer encoding', () => {
  const details = [{ type: 'x.A', value: Buffer.from([1]) }, { type: 'x.B', value: Buffer.alloc(0) }];
  expect(decodeErrorDetails(encodeErrorDetails(details)).map((d) => ({ type: d.type, value: Buffer.from(d.value) }))).toEqual(details);
  expect(decodeErrorDetails(Buffer.from([0, 0, 9]))).toEqual([]);
});

test('HTTP statuses follow grpc-gateway', () => {
  expect(httpStatusFromCode(Code.DEADLINE_EXCEEDED)).toBe(504);
  expect(httpStatusFromCode(Code.UNAVAILABLE)).toBe(503);
  expect(codeFromHttpStatus(503)).toBe(Code.UNAVAILABLE);
  expect(codeFromHttpStatus(418)).toBe(Code.UNKNOWN);
});
