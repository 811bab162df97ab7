// The implementations bench.mjs and bench/ir.mjs compare in Node, behind one interface
// (caudata's JavaScript API): caudata's builds, vodozemac's bench builds, and libolm's own wasm
// build through an adapter (libolm.mjs). browser/bench.html loads the web builds itself.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libolmAdapter } from './libolm.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const Olm = require('@matrix-org/olm');
await Olm.init();

/** libolm's JavaScript API wrapped as caudata's. */
export const libolm = libolmAdapter(Olm);

const wasmFile = (js) => js.replace(/\.js$/, '_bg.wasm');
/** The implementations to compare: `only` (names) and `extra` ([name, dir] pairs). */
export function loadImpls({ only, extra = [] } = {}) {
const candidates = [
  ['caudata-speed', join(here, '../pkg/caudata_wasm.js')],
  ['caudata-size', join(here, 'pkg-caudata-size/caudata_wasm.js')],
  ['vodozemac-size', join(here, 'pkg-vodozemac-size/vodozemac_wasm_bench.js')],
  ['vodozemac-speed', join(here, 'pkg-vodozemac-speed/vodozemac_wasm_bench.js')],
];
for (const [name, dir] of extra) {
  const spec = `${name}=${dir}`;
  const js = ['caudata_wasm.js', 'vodozemac_wasm_bench.js'].map((f) => resolve(dir, f)).find(existsSync);
  if (!js) throw new Error(`${spec}: no package there`);
  candidates.push([name, js]);
}
const impls = [];
for (const [name, path] of candidates) {
  if (only && !only.includes(name)) continue;
  if (!existsSync(path)) {
    if (only) throw new Error(`${name}: ${path} is not built`);
    continue;
  }
  const wasm = wasmFile(path);
  // bench/variant.sh keeps names in the module it runs and a stripped copy for the size.
  impls.push({ name, lib: require(path), wasm: existsSync(`${wasm}.stripped`) ? `${wasm}.stripped` : wasm });
}
if (!only || only.includes('libolm')) {
  impls.push({ name: 'libolm', lib: libolm, wasm: join(dirname(require.resolve('@matrix-org/olm')), 'olm.wasm') });
}
if (impls.length === 0) throw new Error('nothing to time');
return impls;
}

