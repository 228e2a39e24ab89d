/** @agentmesh/runtime */
export {};
