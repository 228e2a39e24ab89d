/** @agentmesh/conductor */
export {};
