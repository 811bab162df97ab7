// Summarises a V8 .cpuprofile (node --cpu-prof, or Chromium's Profiler.stop through
// test/browser/chromium.mjs): self time per function, and the share of the total.
//
//   node bench/profile-summary.mjs file.cpuprofile [top=30] [filter-regexp]

import { readFileSync } from 'node:fs';

const [file, top = 30, filter] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]);
  const name = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? n.callFrame.url.split('/').pop() : ''}`.trim();
  const t = dt[i + 1] ?? 0;
  if (filter && !new RegExp(filter).test(name)) continue;
  self.set(name, (self.get(name) ?? 0) + t);
  total += t;
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top));
for (const [name, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${(t / 1000).toFixed(1).padStart(8)} ms  ${name}`);
console.log(`total ${(total / 1000).toFixed(0)} ms`);
