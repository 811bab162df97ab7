// Headless Chromium for the browser tests and the example page, with no npm dependency: the
// system browser (/usr/bin/chromium) driven by the system chromedriver over WebDriver (plain
// HTTP, Node's fetch), and a static file server for the repository on 127.0.0.1. Nothing here
// downloads a browser; this machine has no network beyond the package registries, so the
// browser is started with everything that would call out switched off.

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, existsSync, statSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, extname, sep } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMEDRIVER = process.env.CHROMEDRIVER ?? '/usr/bin/chromedriver';

/** The flags this machine needs (no sandbox as root, no GPU, no outside network). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Serves `root` read-only on 127.0.0.1 (a free port); resolves to `{ url, close }`. `headers`
 * are added to every response (browser/bench.mjs: cross-origin isolation, for a finer clock).
 */
export function serve(root, { headers = {} } = {}) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(root, path));
    if (!(file === root || file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES[extname(file)] ?? 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }),
    ),
  );
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts chromedriver and one Chromium session with a fresh profile. Returns a small WebDriver
 * client: `goto(url)`, `run(script, ...args)` (synchronous script, returns its value),
 * `waitFor(script, timeoutMs)` (polls until the script returns a truthy value), `cdp(cmd,
 * params)` (a DevTools command through chromedriver), and `close()`. `args`: more Chromium flags.
 */
export async function launch({ args = [] } = {}) {
  for (const [what, path] of [['chromium', CHROMIUM], ['chromedriver', CHROMEDRIVER]]) {
    if (!existsSync(path)) throw new Error(`${what} not found at ${path} (browser/setup.sh installs Debian's chromium and chromium-driver)`);
  }
  const port = await freePort();
  const profile = mkdtempSync(join(tmpdir(), 'caudata-chromium-'));
  const driver = spawn(CHROMEDRIVER, [`--port=${port}`, '--allowed-ips=127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let driverErr = '';
  driver.stderr.on('data', (d) => (driverErr += d));
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const r = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json();
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  };
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    try {
      ready = (await call('GET', '/status')).ready;
    } catch {
      await sleep(100);
    }
  }
  if (!ready) {
    driver.kill();
    throw new Error(`chromedriver did not start: ${driverErr}`);
  }
  let session;
  try {
    session = await call('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          'goog:chromeOptions': { binary: CHROMIUM, args: [...CHROMIUM_FLAGS, ...args, `--user-data-dir=${profile}`] },
        },
      },
    });
  } catch (e) {
    driver.kill();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const id = session.sessionId;
  const s = `/session/${id}`;
  const client = {
    browserVersion: session.capabilities.browserVersion,
    goto: (url) => call('POST', `${s}/url`, { url }),
    run: (script, ...args) => call('POST', `${s}/execute/sync`, { script, args }),
    cdp: (cmd, params = {}) => call('POST', `${s}/goog/cdp/execute`, { cmd, params }),
    async waitFor(script, timeoutMs, ...args) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = await client.run(script, ...args);
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${script}`);
        await sleep(200);
      }
    },
    async close() {
      try {
        await call('DELETE', s);
      } finally {
        driver.kill();
        await new Promise((r) => (driver.exitCode !== null ? r() : driver.once('exit', r)));
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
  return client;
}
