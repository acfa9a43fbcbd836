// Starts a real `fengqiao demo` on a free port with a fresh data directory and
// returns its address and the demo accounts it generated. One day of history
// keeps each start short in a debug build (the demo's default is ninety), and
// the simulator is off so that what a test sees is what it did.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Where cargo put the build: CARGO_TARGET_DIR when it is set, as cargo reads it.
const target = process.env.CARGO_TARGET_DIR ? resolve(root, process.env.CARGO_TARGET_DIR) : join(root, 'target');

export const screenshotDir = join(target, 'e2e');

function binary() {
  if (process.env.FENGQIAO_BIN) return process.env.FENGQIAO_BIN;
  for (const profile of ['debug', 'release']) {
    const path = join(target, profile, 'fengqiao');
    if (existsSync(path)) return path;
  }
  throw new Error('build the server first: cargo build -p fengqiao');
}

export async function startDemo() {
  const dataDir = mkdtempSync(join(tmpdir(), 'fengqiao-e2e-'));
  const child = spawn(binary(), ['demo', '--bind', '127.0.0.1:0', '--data-dir', dataDir, '--history-days', '1', '--live-rate', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FENGQIAO_DATABASE_URL: '' },
  });
  let output = '';
  const url = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 120_000);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/serving at (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
  });
  const credentials = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8'));
  mkdirSync(screenshotDir, { recursive: true });
  return {
    url,
    accounts: credentials.accounts,
    stop: () => child.kill('SIGTERM'),
  };
}

export const chromiumOptions = {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
};
