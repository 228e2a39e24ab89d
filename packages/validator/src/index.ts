/**
 * @agentmesh/validator: the validator agent. It serves read-only probes of a repository
 * and validates patches in a sandboxed, patched copy; the engine is public for embedders.
 */
export { createValidatorService } from './validator-service';
export type { ValidatorServiceOptions, ValidationHook } from './validator-service';
export * from './engine';
