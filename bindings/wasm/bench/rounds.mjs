// The interleaved rounds and the markdown table, shared by bench.mjs (Node, CPU time) and
// browser/bench.html (Chromium, wall time): only the clock (`batch`) and the pauses differ.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * For each operation: two warm-up batches per implementation (JIT tiers, caches, lazy tables),
 * then `rounds` rounds in which every implementation, in an order rotating by round, runs one
 * batch. `batch(B, setup, run, teardown)` returns µs per operation. Resolves to
 * `{ [op name]: { [impl name]: median µs } }`.
 *
 * Hooks (all optional, awaited, never inside a timed batch): `beforeRounds(op)` after the
 * warm-up, `afterRound(op, round)`, `afterOp(op, times)` (`times`: implementation name → every
 * round's figure, in round order).
 */
export async function runRounds({ impls, ops, rounds, batch, beforeRounds, afterRound, afterOp }) {
  const results = {};
  for (const op of ops) {
    const runners = impls.map((impl) => ({ impl, run: op.make(impl, batch) }));
    runners.forEach((r) => r.run()); // warm-up (JIT tiers, caches, lazy tables)
    runners.forEach((r) => r.run());
    if (beforeRounds) await beforeRounds(op);
    const times = new Map(impls.map((i) => [i.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < runners.length; k++) {
        const r = runners[(k + round) % runners.length];
        times.get(r.impl.name).push(r.run());
      }
      if (afterRound) await afterRound(op, round);
    }
    results[op.name] = Object.fromEntries([...times].map(([n, t]) => [n, median(t)]));
    if (afterOp) await afterOp(op, Object.fromEntries(times));
  }
  return results;
}

/** The table's lines: one row per operation, then the module sizes (`{ name: { raw, gzip } }`). */
export function table({ names, ops, results, sizes }) {
  const lines = [];
  const pad = (s, n) => String(s).padStart(n);
  const w = Math.max(...ops.map((o) => o.name.length));
  lines.push(`| ${'operation'.padEnd(w)} | ${names.map((n) => pad(n, 15)).join(' | ')} |`);
  lines.push(`|${'-'.repeat(w + 2)}|${names.map(() => `${'-'.repeat(16)}:`).join('|')}|`);
  for (const op of ops) {
    const r = results[op.name];
    lines.push(`| ${op.name.padEnd(w)} | ${names.map((n) => pad(r[n].toFixed(1), 15)).join(' | ')} |`);
  }
  lines.push(`| ${'wasm bytes raw'.padEnd(w)} | ${names.map((n) => pad(sizes[n].raw, 15)).join(' | ')} |`);
  lines.push(`| ${'wasm bytes gzip -9'.padEnd(w)} | ${names.map((n) => pad(sizes[n].gzip, 15)).join(' | ')} |`);
  return lines;
}
