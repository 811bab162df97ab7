// Instruction counts of one operation of one implementation, for comparisons that the shared
// machine's load cannot blur: run under callgrind twice, once with the operation and once
// without (everything else identical), and divide the difference.
//
//   bash bench/ir.sh [impl,…] [operation-substring,…]     (the driver; see there)
//   node bench/ir.mjs <impl> <operation-substring> <rounds> <0|1>   (what it runs)
//
// V8 runs with --no-liftoff --single-threaded (ir.sh passes them): every function is compiled
// by TurboFan, on the main thread, so the machine code is the same from run to run.

import { libolm, loadImpls } from './impls.mjs';
import { makeOperations } from './operations.mjs';

const [name, opName, rounds, on] = process.argv.slice(2);
// BENCH_PKG=name=dir,…: more builds (as bench.mjs --pkg).
const extra = (process.env.BENCH_PKG || '').split(',').filter(Boolean).map((s) => s.split('='));
const [impl] = loadImpls({ only: [name], extra });
const op = makeOperations(libolm).find((o) => o.name.toLowerCase().includes(opName.toLowerCase()));
if (!op) throw new Error(`no operation like ${opName}`);
const doRun = on === '1';
// Setup always, the timed part only when `on`, teardown (checks, free) never: the two runs
// must differ by the operations alone.
const batch = (B, setup, run, teardown) => {
  const state = setup(B);
  if (doRun) for (let i = 0; i < B; i++) run(state, i);
  return 0;
};
const warm = op.make(impl, (B, setup, run, teardown) => {
  const state = setup(B);
  for (let i = 0; i < B; i++) run(state, i);
  teardown?.(state);
});
warm();
const go = op.make(impl, batch);
for (let r = 0; r < Number(rounds); r++) go();
console.log(JSON.stringify({ impl: name, op: op.name, ops: Number(rounds) * op.B }));
