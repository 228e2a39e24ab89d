// docker-compose.yml: valid for docker-compose, and every service's command runs in the built workspace.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const cliDir = path.resolve(__dirname, '..');
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const hasYaml = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0;

interface ComposeService {
  command?: string[];
  entrypoint?: string[];
  build?: { context: string; dockerfile: string };
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[]; disable?: boolean };
  environment?: Record<string, string>;
}

/** The resolved compose file (anchors and merges applied), as JSON through docker-compose's own YAML parser. */
function resolvedCompose(): { services: Record<string, ComposeService> } {
  const yaml = execFileSync('docker-compose', ['-f', path.join(root, 'docker-compose.yml'), 'config'], { cwd: root, encoding: 'utf8', env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  return JSON.parse(execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml, encoding: 'utf8' }));
}

const maybe = hasCompose && hasYaml ? test : test.skip;
if (!hasCompose) process.stderr.write('compose.test: skipped: docker-compose is not installed (apt-get install docker-compose)\n');
else if (!hasYaml) process.stderr.write('compose.test: skipped: python3 with PyYAML (docker-compose\'s own dependency) is missing\n');

maybe('docker-compose config -q accepts the file', () => {
  const result = spawnSync('docker-compose', ['-f', path.join(root, 'docker-compose.yml'), 'config', '-q'], { cwd: root, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});

maybe('services, replicas, healthchecks and peers are as the issue asks, and every command exists in the built workspace', () => {
  const { services } = resolvedCompose();
  expect(Object.keys(services).sort()).toEqual(['coder', 'demo', 'planner', 'validator']);
  expect(services.coder.deploy?.replicas).toBe(2);
  expect(services.demo.environment?.AGENTMESH_CODER_ADDR).toBe('dns:///coder:50051');
  expect(services.planner.environment?.AGENTMESH_VALIDATOR_ADDR).toBe('validator:50051');
  const dockerfile = fs.readFileSync(path.join(root, 'packages/cli/Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/pnpm --filter @agentmesh\/cli deploy --prod/);
  expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/main.js"\]/);
  // The image's /app is the deployed cli package: dist/main.js there is packages/cli/dist/main.js here.
  const main = path.join(cliDir, 'dist/main.js');
  expect(fs.existsSync(main)).toBe(true);
  const usage = execFileSync(process.execPath, [main, 'help'], { encoding: 'utf8' });
  for (const [name, service] of Object.entries(services)) {
    expect(service.build?.dockerfile).toBe('packages/cli/Dockerfile');
    const command = service.command ?? [];
    expect(name === 'demo' || service.healthcheck?.test?.[0] !== 'NONE').toBe(true);
    expect([name, command[0] !== undefined && usage.includes(`  ${command[0]} `)]).toEqual([name, true]);
    if (command[0] === 'serve') {
      expect(command[1]).toBe(name);
      // The service name and the environment pass the configuration check (exit 2 would mean a bad setting).
      const { loadServiceConfig } = require('../src/service-config');
      expect(() => loadServiceConfig(command[1], {}, service.environment)).not.toThrow();
    }
    if (command[0] === 'run') expect(fs.existsSync(path.join(root, command[1].replace(/^\/app\//, '')))).toBe(true);
    if (!service.healthcheck?.disable && service.healthcheck?.test?.[0] !== 'NONE') {
      expect(service.healthcheck?.test).toEqual(['CMD', 'node', 'dist/main.js', 'health', '127.0.0.1:50052']);
      expect(service.environment?.AGENTMESH_GRPC_PORT).toBe('50052');
      expect(service.environment?.AGENTMESH_METRICS_PORT).toBe('9464');
    }
  }
});
