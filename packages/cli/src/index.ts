/** @agentmesh/cli: the agentmesh command's building blocks, for tests and embedding. */
export { runSmoke, startChildService, stopChildService } from './smoke';
export type { ChildService } from './smoke';
