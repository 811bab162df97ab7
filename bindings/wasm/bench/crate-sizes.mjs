// Code bytes per crate of a .wasm that still has its name section (bench/variant.sh's builds
// drop it; build with `wasm-bindgen` without --remove-name-section and `wasm-opt -g`), to see
// where a build's size goes.
//
//   node bench/crate-sizes.mjs file.wasm [top=25]

import { readFileSync } from 'node:fs';

const b = readFileSync(process.argv[2]);
const top = Number(process.argv[3] ?? 25);
let p = 8;
const leb = () => {
  let r = 0;
  let s = 0;
  for (;;) {
    const x = b[p++];
    r += (x & 0x7f) * 2 ** s;
    s += 7;
    if (x < 0x80) return r;
  }
};
let imports = 0;
const sizes = [];
const names = new Map();
while (p < b.length) {
  const id = b[p++];
  const len = leb();
  const end = p + len;
  if (id === 2) {
    const n = leb();
    for (let i = 0; i < n; i++) {
      p += leb(); // module
      p += leb(); // name
      const kind = b[p++];
      if (kind === 0) (leb(), imports++);
      else if (kind === 1) (p++, leb(), b[p - 1] & 1 ? leb() : 0);
      else if (kind === 2) (b[p++] & 1 ? (leb(), leb()) : leb());
      else if (kind === 3) p += 2;
      else leb();
    }
  } else if (id === 10) {
    const n = leb();
    for (let i = 0; i < n; i++) {
      const sz = leb();
      sizes.push(sz);
      p += sz;
    }
  } else if (id === 0) {
    const nl = leb();
    const name = b.subarray(p, p + nl).toString();
    p += nl;
    if (name === 'name') {
      while (p < end) {
        const sub = b[p++];
        const sl = leb();
        const se = p + sl;
        if (sub === 1) {
          const n = leb();
          for (let i = 0; i < n; i++) {
            const idx = leb();
            const l = leb();
            names.set(idx, b.subarray(p, p + l).toString());
            p += l;
          }
        }
        p = se;
      }
    }
  }
  p = end;
}
const byCrate = new Map();
let total = 0;
sizes.forEach((sz, i) => {
  const name = names.get(i + imports) ?? '?';
  // The crate: the first path segment of the (demangled) name, inside <…> for trait impls.
  const m = name.replace(/^<+/, '').match(/^([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
  const crate = m ? m[1] : name.startsWith('__') || !name.includes('::') ? '(other)' : '?';
  byCrate.set(crate, (byCrate.get(crate) ?? 0) + sz);
  total += sz;
});
for (const [c, s] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${String(s).padStart(8)} ${((100 * s) / total).toFixed(1).padStart(5)} %  ${c}`);
console.log(`${String(total).padStart(8)} code bytes in ${sizes.length} functions (file ${b.length})`);
