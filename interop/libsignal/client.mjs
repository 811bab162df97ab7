// A tiny client for peer.mjs: spawns it and sends JSON-line requests one at a time.
// Used by smoke.mjs; a Rust test harness would speak the same protocol.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));

export class PeerProcess {
  constructor() {
    this.child = spawn(process.execPath, [path.join(here, 'peer.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiting = [];
    this.rl = readline.createInterface({ input: this.child.stdout });
    this.rl.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w.resolve(JSON.parse(line));
    });
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`peer exited with ${code}`));
    });
  }

  // Sends a request; resolves to the response object ({ok: ...}).
  request(req) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(typeof req === 'string' ? req + '\n' : JSON.stringify(req) + '\n');
    });
  }

  // Like request(), but throws on {ok: false}.
  async call(req) {
    const r = await this.request(req);
    if (!r.ok) {
      const e = new Error(`${req.cmd}: ${r.error}`);
      e.response = r;
      throw e;
    }
    return r;
  }

  async close() {
    this.child.stdin.end();
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}
