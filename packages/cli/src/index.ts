/** @agentmesh/cli */
export {};
