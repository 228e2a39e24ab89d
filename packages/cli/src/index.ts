/** @agentmesh/cli: the agentmesh command's building blocks, for tests and embedding. */
export { runSmoke, startChildService, stopChildService } from './smoke';
export type { ChildService } from './smoke';
export { runDemo, copyExample, exampleRepository } from './demo';
export type { DemoOptions } from './demo';
export { runDoctor } from './doctor';
export { runCommand, checkRunOptions } from './run-command';
export type { RunCommandOptions } from './run-command';
export { startAgentServer, agentNames } from './agent-server';
export type { AgentServer, AgentServerOptions, AgentService } from './agent-server';
export { agentAddress, parseAddress, parseTransport, SettingError, addressVariables, transportNames } from './settings';
