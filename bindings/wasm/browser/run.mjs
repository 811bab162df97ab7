// The package's tests in headless Chromium, then the example page:
//
//   node bindings/wasm/browser/run.mjs      (after build.sh and browser/setup.sh)
//
// 1. browser/tests.html runs the portable tests (api, libolm, pickle .test.mjs) against
//    pkg-web/ with libolm 3.2.15's own WebAssembly build loaded in the same page: the live
//    Olm and Megolm conversations and pickle exchanges with libolm run inside Chromium.
//    (libsignal.test.mjs stays Node-only: @signalapp/libsignal-client is a native Node module.)
// 2. example/index.html: two clients in one page (Olm, Megolm, an interolm conversation,
//    pickles in IndexedDB). It is opened twice in the same profile: the first visit creates
//    the clients and stores their pickles, the second restores them from IndexedDB and goes on
//    talking with the restored sessions.
// Prints one line per test and a closing "N passed, N failed"; exits non-zero on any failure.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, serve } from './chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const TIMEOUT = 10 * 60 * 1000; // a hang guard only; the suite takes seconds

const server = await serve(repo);
const browser = await launch();
let passed = 0;
let failed = 0;
const report = (ok, name, detail = '') => {
  ok ? passed++ : failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${detail ? `\n${detail.replace(/^/gm, '    ')}` : ''}`);
};

try {
  console.log(`# ${browser.browserVersion ? `Chromium ${browser.browserVersion}` : 'Chromium'}, headless, ${server.url}`);

  // 1. The package's tests.
  await browser.goto(`${server.url}/bindings/wasm/browser/tests.html`);
  const t = await browser.waitFor('return globalThis.__caudataTests?.done && globalThis.__caudataTests', TIMEOUT);
  for (const e of t.errors) report(false, 'test page error', e);
  for (const r of t.results) report(r.ok, `browser ${r.file}: ${r.name} (${r.ms.toFixed(0)} ms)`, r.error);
  const count = t.results.length;
  if (count < 20) report(false, `the test page ran only ${count} tests`);

  // 2. The example page, twice in the same profile.
  const example = `${server.url}/bindings/wasm/example/index.html`;
  for (const visit of ['first', 'second']) {
    await browser.goto(example);
    const e = await browser.waitFor('return globalThis.__example?.done && globalThis.__example', TIMEOUT);
    for (const err of e.errors) report(false, `example (${visit} visit): page error`, err);
    for (const c of e.checks) report(c.ok, `example (${visit} visit): ${c.name}`, c.detail);
    const restored = e.checks.some((c) => c.name.startsWith('restored from IndexedDB'));
    report(visit === 'first' ? !restored : restored, `example (${visit} visit): ${visit === 'first' ? 'a fresh start (nothing in IndexedDB)' : 'the clients came back from IndexedDB'}`);
  }
} catch (e) {
  report(false, 'browser run', String(e?.stack ?? e));
} finally {
  await browser.close();
  await server.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
