// Jest setup for every package: quiet logs unless a run asks for them.
process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'silent';
