// The trivial task whose start-up the bench measures in child processes: it reports its own peak
// resident memory and CPU time, since Node gives a parent no rusage for one child.
const usage = process.resourceUsage();
process.stdout.write(JSON.stringify({ maxRssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
