/**
 * The one line a bench server child writes on stdout when it listens, so the
 * load generator learns the port. Logs go elsewhere (stderr, or nowhere).
 */
export function announceReady(port: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ benchReady: true, port, pid: process.pid, ...extra })}\n`);
}

/** Exits quietly when the parent goes away (stdin closes) or asks us to stop. */
export function exitWithParent(onExit: () => void = () => undefined): void {
  const stop = () => {
    onExit();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}
