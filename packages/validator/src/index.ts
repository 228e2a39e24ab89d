/** @agentmesh/validator */
export {};
