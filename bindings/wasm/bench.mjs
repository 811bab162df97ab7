// Timings of caudata's WebAssembly package next to libolm 3.2.15's own WebAssembly build
// (@matrix-org/olm) and vodozemac 0.11.1 compiled to WebAssembly the same way as caudata
// (bench/vodozemac-wasm, same profiles, same wasm-opt), all in one Node process. Every
// operation that involves a message works on messages of libolm (so every number is also an
// interop check).
//
//   bash bindings/wasm/bench.sh        # builds every implementation, then runs this
//   node bindings/wasm/bench.mjs [rounds] [--only=a,b] [--ops=x,y] [--json=out.json] [--no-os-rng]
//
// --no-os-rng (analysis only, never for keys anyone uses): `crypto.getRandomValues` becomes a
// copy from a buffer filled once, so that the table shows each implementation's cost without
// the operating system's randomness. caudata asks for it once per operation (SPEC.md §2),
// vodozemac once per process (a user-space generator); the difference between the two tables
// is what that decision costs in WebAssembly.
//
// Method: for each operation, `rounds` rounds; in each round every implementation (in a
// rotating order) runs a batch of the operation, measured as a whole in the process's CPU time
// (user + system, all of Node's threads), not wall time: on a machine shared with other jobs,
// time spent waiting for a core is not counted (wall-clock medians moved by 2-10x with the
// load; CPU time by about 10 %). The figure is the median over rounds of the batch's CPU time
// per operation. Interleaving the implementations round by round keeps load changes (cache
// and frequency effects remain) from favouring one of them.
//
// Implementations are found by path (missing ones are left out, unless named in --only):
//   caudata-speed     pkg/caudata_wasm.js (build.sh: the published build, Cargo profile `release`)
//   caudata-size      bench/pkg-caudata-size/ (bench.sh: Cargo profile `size`, all at opt-level z)
//   vodozemac-speed   bench/pkg-vodozemac-speed/ (bench.sh: vodozemac 0.11.1, profile `release`)
//   vodozemac-size    bench/pkg-vodozemac-size/  (bench.sh: vodozemac 0.11.1, profile `size`)
//   libolm            @matrix-org/olm 3.2.15
// --pkg=name=dir,… adds more builds (e.g. those of bench/variant.sh).
//
// browser/bench.mjs runs the same operations and rounds in headless Chromium (wall time there).

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Olm, libolm, loadImpls } from './bench/impls.mjs';
import { makeOperations, PLAINTEXT } from './bench/operations.mjs';
import { runRounds, table } from './bench/rounds.mjs';

const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ROUNDS = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);
const ONLY = opt('only')?.split(',');
const OPS = opt('ops')?.split(',');
if (args.includes('--no-os-rng')) {
  const pool = new Uint8Array(1 << 16);
  globalThis.crypto.getRandomValues(pool);
  let at = 0;
  // Distinct bytes on every call (a counter mixed in), so that no implementation sees repeats.
  globalThis.crypto.getRandomValues = (a) => {
    for (let i = 0; i < a.length; i++) a[i] = pool[(at + i) & 0xffff] ^ (at >>> 8);
    at = (at + a.length + 1) & 0xffffff;
    return a;
  };
}


// ---- implementations behind one interface (caudata's JavaScript API)

const extra = (opt('pkg')?.split(',') ?? []).map((spec) => spec.split('='));
const impls = loadImpls({ only: ONLY, extra });

// ---- timing

/** Runs `setup(B)` untimed, then `run(state, i)` for i < B timed as a whole; µs per operation. */
function batch(B, setup, run, teardown) {
  const state = setup(B);
  const c0 = process.cpuUsage();
  for (let i = 0; i < B; i++) run(state, i);
  const c = process.cpuUsage(c0);
  const dt = (c.user + c.system) / B;
  teardown?.(state);
  return dt;
}

// ---- run (the rounds and the table: bench/rounds.mjs, shared with browser/bench.html)

const ops = makeOperations(libolm).filter((o) => !OPS || OPS.some((x) => o.name.toLowerCase().includes(x.toLowerCase())));
const results = await runRounds({ impls, ops, rounds: ROUNDS, batch, afterOp: () => process.stderr.write('.') });
process.stderr.write('\n');

const sizes = Object.fromEntries(
  impls.map((i) => {
    const { readFileSync } = require('node:fs');
    const { gzipSync } = require('node:zlib');
    const b = readFileSync(i.wasm);
    return [i.name, { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }];
  }),
);

console.log(
  `µs per operation, median of ${ROUNDS} interleaved rounds; Node ${process.version}; ` +
    `${PLAINTEXT.length}-byte plaintext; libolm ${Olm.get_library_version().join('.')}`,
);
for (const line of table({ names: impls.map((i) => i.name), ops, results, sizes })) console.log(line);
if (opt('json')) writeFileSync(opt('json'), JSON.stringify({ node: process.version, rounds: ROUNDS, results, sizes }, null, 2));
