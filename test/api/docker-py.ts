// docker-py (Debian's python3-docker) driving berthd: one script run with Debian's python,
// and the skip reason when the module is not installed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const PYTHON = '/usr/bin/python3';

export const dockerPyMissing: string | false =
  existsSync('/usr/lib/python3/dist-packages/docker') ? false : 'needs python3-docker (scripts/setup installs it)';

export interface PythonResult { code: number; stdout: string; stderr: string }

/** Runs `script` with `args` as sys.argv[1:]; killed after 50 s so a hung client fails the test. */
export async function runPython(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<PythonResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}
