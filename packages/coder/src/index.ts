/**
 * @agentmesh/coder: the coder agent. TypeScript's own code fixes, ranked and checked by
 * the compiler, as unified-diff patches; a versioned model-provider interface for free text.
 */
export { createCoderService } from './coder-service';
export type { CoderServiceOptions } from './coder-service';
export * from './engine';
