/** @agentmesh/sandbox */
export {};
