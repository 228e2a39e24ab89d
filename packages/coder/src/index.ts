/** @agentmesh/coder */
export {};
