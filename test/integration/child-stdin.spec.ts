import { exec } from '../compose/exec';
import { mesh } from '../../apps/cli/test/built-mesh';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The test helpers that run a command with input: a command that exits without reading it (CI saw
// `docker ps` do this, and the runner died of an unhandled EPIPE) must not crash the run; the exit
// code is the result. Four MiB is far beyond a pipe's buffer, so the write is still pending when
// the child exits, every time.
const INPUT = 'x'.repeat(4 << 20);

describe('a child that exits without reading its stdin', () => {
  it('test:compose exec: resolves with the exit code', async () => {
    const result = await exec(process.execPath, ['-e', 'process.exit(3)'], { input: INPUT, check: false });
    expect(result.code).toBe(3);
  });

  it('the built mesh helper: resolves with the exit code', async () => {
    const home = mkdtempSync(join(tmpdir(), 'child-stdin-'));
    try {
      const run = await mesh(home, ['--help'], INPUT);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: mesh');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
