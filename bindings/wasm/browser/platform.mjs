// The browser's side of ../common.mjs (the page's import map puts this module in place of
// ../platform.mjs): the package's ES-module build (pkg-web/, what a web app imports), libolm
// 3.2.15's own WebAssembly build loaded from its browser script, and files read over HTTP
// from the test server.

import init, * as caudataWeb from '../pkg-web/caudata_wasm.js';

export const platform = 'browser';

await init();

/** The package as a web application sees it. */
export const caudata = caudataWeb;

/** The package directory the API tests read package.json and the .d.ts from. */
export const pkgDir = '../pkg-web/';

/** libolm 3.2.15: its Emscripten build (olm.js + olm.wasm) in this page, initialised once. */
export { loadOlm } from './olm.mjs';

/** A file's text, fetched synchronously from the test server (the tests are synchronous). */
export function readText(url) {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', String(url), false);
  xhr.send();
  if (xhr.status !== 200) throw new Error(`GET ${url}: ${xhr.status}`);
  return xhr.responseText;
}
