// bench.mjs's table in headless Chromium: the same operations (bench/operations.mjs), the same
// interleaved rounds (bench/rounds.mjs), the same libolm 3.2.15 peer, run in a web page
// (browser/bench.html) on the web builds: pkg-web/ (build.sh) and bench/pkg-web-* (bench.sh).
// Manual, not in CI (a run takes minutes).
//
//   bash bindings/wasm/bench.sh --build-only        # after build.sh: the bench modules, web too
//   node bindings/wasm/browser/bench.mjs [rounds=15] [--only=a,b] [--ops=x,y] [--json=out.json]
//        [--min] [--names] [--profile=out.cpuprofile [--profile-only=impl] [--interval=µs]] [--js-flags=…]
//
// The clock is performance.now() around each batch: wall time in the page, not CPU time (a page
// has no CPU-time clock), so time the machine spends on other jobs counts, unlike in bench.mjs.
// The server sends COOP/COEP headers: a cross-origin-isolated page gets Chromium's 5 µs clock
// instead of 100 µs (the page reports the step it measured). --min adds a second table: each
// implementation's fastest round, which waiting for a core on a loaded machine inflates least.
//
// --profile=file: a V8 CPU profile (DevTools Profiler, sampling every --interval µs, default
// 100) of the timed rounds (from the end of the first operation's warm-up to the last round),
// readable by bench/profile-summary.mjs. --profile-only=impl times only that implementation;
// give --ops too, so that the profile is of one implementation and one operation. With a profile
// (or --names) each module is loaded from its `_bg.named.wasm` twin where bench.sh made one: the
// same code (wasm-opt's output with -g, then stripped, is byte-identical), with function names.
// --js-flags=… passes V8 flags to the page (analysis only: e.g. --no-liftoff, every WebAssembly
// function compiled by TurboFan before it first runs, to tell tier-up from steady state).

import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, serve } from './chromium.mjs';
import { makeOperations } from '../bench/operations.mjs';
import { table } from '../bench/rounds.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const wasmDir = resolve(here, '..');
const repo = resolve(here, '../../..');
const TIMEOUT = 60 * 60 * 1000; // a hang guard only
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ROUNDS = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);
const PROFILE = opt('profile');
const ONLY = (opt('profile-only') ?? opt('only'))?.split(',');
const OPS = opt('ops')?.split(',');
const NAMES = args.includes('--names') || Boolean(PROFILE);
const INTERVAL = Number(opt('interval') ?? 100);
const JS_FLAGS = opt('js-flags'); // V8 flags for the page (analysis only), e.g. --no-liftoff

// name, glue, module, named module (bench.sh) — relative to bindings/wasm.
const CANDIDATES = [
  ['caudata-speed', 'pkg-web/caudata_wasm.js', 'pkg-web/caudata_wasm_bg.wasm', 'bench/pkg-web-caudata-speed/caudata_wasm_bg.named.wasm'],
  ['caudata-size', 'bench/pkg-web-caudata-size/caudata_wasm.js', 'bench/pkg-web-caudata-size/caudata_wasm_bg.wasm', 'bench/pkg-web-caudata-size/caudata_wasm_bg.named.wasm'],
  ...['speed', 'size'].map((p) => {
    const d = `bench/pkg-web-vodozemac-${p}/vodozemac_wasm_bench`;
    return [`vodozemac-${p}`, `${d}.js`, `${d}_bg.wasm`, `${d}_bg.named.wasm`];
  }),
];
const url = (file) => `/${relative(repo, file).split('\\').join('/')}`;
const impls = [];
for (const [name, js, wasm, named] of CANDIDATES) {
  if (ONLY && !ONLY.includes(name)) continue;
  const [jsFile, wasmFile, namedFile] = [js, wasm, named].map((f) => resolve(wasmDir, f));
  if (!existsSync(jsFile) || !existsSync(wasmFile)) {
    if (ONLY) throw new Error(`${name}: ${wasmFile} is not built (build.sh, bench.sh --build-only)`);
    continue;
  }
  const load = NAMES && existsSync(namedFile) ? namedFile : wasmFile;
  if (NAMES && load !== namedFile) console.error(`# ${name}: no ${named}, profiling the module without names`);
  impls.push({ name, js: url(jsFile), wasm: url(load), sizeOf: wasmFile });
}
if (!ONLY || ONLY.includes('libolm')) {
  impls.push({ name: 'libolm', sizeOf: resolve(wasmDir, 'node_modules/@matrix-org/olm/olm.wasm') });
}
if (impls.length === 0) throw new Error('nothing to time');

// The operations' names (the page makes the operations itself; no libolm needed for names).
const ops = makeOperations(null).filter((o) => !OPS || OPS.some((x) => o.name.toLowerCase().includes(x.toLowerCase())));
if (ops.length === 0) throw new Error(`no operation like ${OPS}`);

const sizes = Object.fromEntries(
  impls.map((i) => {
    const b = readFileSync(i.sizeOf);
    return [i.name, { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }];
  }),
);

const config = {
  rounds: ROUNDS,
  impls: impls.map(({ name, js, wasm }) => ({ name, js, wasm })),
  ops: ops.map((o) => o.name),
  profile: Boolean(PROFILE),
};

const server = await serve(repo, {
  headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
});
// Timers and rendering of a page that is not in front must not be throttled.
const browser = await launch({
  args: [
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    ...(JS_FLAGS ? [`--js-flags=${JS_FLAGS}`] : []),
  ],
});
let failed = false;
try {
  await browser.goto(`${server.url}/bindings/wasm/browser/bench.html?config=${encodeURIComponent(JSON.stringify(config))}`);
  let profiling = false;
  let last = '';
  // Polls run a script in the page between rounds: a few a second, so that they stay out of the
  // way (and out of a profile: chromedriver's executeScript helpers show up there otherwise).
  const end = Date.now() + TIMEOUT;
  for (;;) {
    const s = await browser.run('const b = globalThis.__bench; return b ? JSON.parse(JSON.stringify(b)) : null;');
    if (!s || (!s.done && !s.waiting)) {
      if (Date.now() > end) throw new Error('the benchmark page did not finish');
      if (s && s.progress !== last) process.stderr.write(`\r${(last = s.progress).padEnd(70)}`);
      await sleep(s?.waiting === null && profiling ? 1000 : 250);
      continue;
    }
    if (s.progress !== last) {
      last = s.progress;
      process.stderr.write(`\r${last.padEnd(70)}`);
    }
    if (s.done) {
      process.stderr.write('\n');
      if (s.errors.length) throw new Error(`page errors:\n${s.errors.join('\n')}`);
      const { meta, results } = s;
      console.log(
        `µs per operation, median of ${ROUNDS} interleaved rounds: wall time in the page (performance.now(), ` +
          `${meta.clockStepUs.toFixed(1)} µs steps${meta.crossOriginIsolated ? ', cross-origin isolated' : ''}), not CPU time; ` +
          `Chromium ${browser.browserVersion}, headless; ${meta.plaintext}-byte plaintext; libolm ${meta.libolm}` +
          (NAMES ? '; modules with names' : '') +
          (JS_FLAGS ? `; V8 flags ${JS_FLAGS}` : ''),
      );
      const names = impls.map((i) => i.name);
      for (const line of table({ names, ops, results, sizes })) console.log(line);
      // The fastest round of each: on a loaded machine, the figure least inflated by waiting for
      // a core (a batch longer than the scheduler's time slice is likely to be preempted).
      const fastest = Object.fromEntries(
        Object.entries(s.rounds).map(([op, t]) => [op, Object.fromEntries(Object.entries(t).map(([n, xs]) => [n, Math.min(...xs)]))]),
      );
      if (args.includes('--min')) {
        console.log(`\nµs per operation, the fastest of the ${ROUNDS} rounds (same runs)`);
        for (const line of table({ names, ops, results: fastest, sizes }).slice(0, -2)) console.log(line);
      }
      if (opt('json')) {
        const json = { chromium: browser.browserVersion, meta, rounds: ROUNDS, results, fastest, perRound: s.rounds, sizes };
        writeFileSync(opt('json'), JSON.stringify(json, null, 2));
      }
      break;
    }
    if (s.waiting) {
      if (PROFILE && !profiling) {
        await browser.cdp('Profiler.enable');
        await browser.cdp('Profiler.setSamplingInterval', { interval: INTERVAL });
        await browser.cdp('Profiler.start');
        profiling = true;
      }
      await browser.run('globalThis.__benchGo()');
    }
  }
  if (profiling) {
    const { profile } = await browser.cdp('Profiler.stop');
    writeFileSync(PROFILE, JSON.stringify(profile));
    console.log(`profile: ${PROFILE} (${profile.samples.length} samples; node bindings/wasm/bench/profile-summary.mjs ${PROFILE})`);
  }
} catch (e) {
  failed = true;
  console.error(String(e?.stack ?? e));
} finally {
  await browser.close();
  await server.close();
}
process.exitCode = failed ? 1 : 0;
