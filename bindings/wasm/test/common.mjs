// Helpers shared by the tests that run both in Node (`node --test test/`) and in headless
// Chromium (browser/run.mjs): the package, libolm's own WebAssembly build and file access
// come from './platform.mjs', which the browser page's import map replaces with
// ../browser/platform.mjs. Nothing here may use a Node-only API.

import assert from 'node:assert/strict';

export { caudata, loadOlm, readText, platform, pkgDir } from './platform.mjs';

/** Asserts that `fn` throws a CaudataError with `code` (and never a WebAssembly trap). */
export function assertCode(fn, code) {
  let thrown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected a throw with code ${code}`);
  assert.ok(!(thrown instanceof WebAssembly.RuntimeError), `a WebAssembly trap: ${thrown}`);
  assert.ok(thrown instanceof Error, `not an Error: ${thrown}`);
  assert.equal(thrown.name, 'CaudataError', `${thrown}`);
  assert.equal(thrown.code, code, `${thrown.message}`);
  return thrown;
}

/** A deterministic shuffle (the tests must be reproducible). */
export function shuffled(items, seed = 1) {
  const a = [...items];
  let s = seed >>> 0 || 1;
  for (let i = a.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export function firstEntry(json) {
  const [[id, key]] = Object.entries(json);
  return { id, key };
}

/** Standard (padded) base64 of bytes, as Node's `Buffer.toString('base64')`. */
export function toBase64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Bytes of base64, padded or not. */
export function fromBase64(text) {
  const s = atob(text.padEnd(Math.ceil(text.length / 4) * 4, '='));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Bytes of hex. */
export const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

export const utf8 = (s) => new TextEncoder().encode(s);
export const fromUtf8 = (b) => new TextDecoder().decode(b);
