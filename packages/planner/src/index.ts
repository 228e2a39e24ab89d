/** @agentmesh/planner */
export {};
