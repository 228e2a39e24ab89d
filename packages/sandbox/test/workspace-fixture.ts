// Test helper: a throwaway workspace readable by the unprivileged sandbox user, with a few scripts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface WorkspaceFixture {
  readonly dir: string;
  write(relative: string, content: string, mode?: number): string;
  remove(): void;
}

export function createWorkspaceFixture(): WorkspaceFixture {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-sandbox-test-')));
  fs.chmodSync(dir, 0o755);
  return {
    dir,
    write(relative, content, mode = 0o644) {
      const file = path.join(dir, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
      fs.writeFileSync(file, content, { mode });
      fs.chmodSync(file, mode);
      return file;
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
