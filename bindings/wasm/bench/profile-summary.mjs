// Summarises a V8 .cpuprofile (node --cpu-prof, or Chromium's Profiler.stop through
// test/browser/chromium.mjs): self time per function, and the share of the total.
//
//   node bench/profile-summary.mjs file.cpuprofile [top=30] [filter-regexp] [--by-crate]
//
// --by-crate: WebAssembly functions grouped by the first Rust path in their name (the crate:
// `curve25519_dalek`, `sha2`, …; needs a module with names, e.g. browser/bench.mjs --profile),
// JavaScript functions by file, V8's own entries ((program), (garbage collector), …) as they are.

import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const byCrate = argv.includes('--by-crate');
const [file, top = 30, filter] = argv.filter((a) => a !== '--by-crate');
const group = (name, url) => {
  if (!byCrate) return name;
  if (/\.wasm$/.test(url)) return `${/([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::/.exec(name)?.[1] ?? name} (wasm)`;
  if (url) return `${url.split('/').pop().split('?')[0]} (JavaScript)`;
  return name;
};
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]);
  const name = group(
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? n.callFrame.url.split('/').pop().split('?')[0] : ''}`.trim(),
    n.callFrame.url,
  );
  const t = dt[i + 1] ?? 0;
  if (filter && !new RegExp(filter).test(name)) continue;
  self.set(name, (self.get(name) ?? 0) + t);
  total += t;
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top));
for (const [name, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${(t / 1000).toFixed(1).padStart(8)} ms  ${name}`);
console.log(`total ${(total / 1000).toFixed(0)} ms`);
