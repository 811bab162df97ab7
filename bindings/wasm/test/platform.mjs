// Node's side of common.mjs: the package exactly as npm would ship it (pkg/, made by build.sh),
// libolm 3.2.15's own WebAssembly build from node_modules, and files read from disk.
// ../browser/platform.mjs is the same interface in a web page.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

export const platform = 'node';

/** The package exactly as npm would ship it. */
export const caudata = require('../pkg/caudata_wasm.js');

let olmPromise;
/** libolm 3.2.15 (its own Emscripten WebAssembly build), initialised once. */
export function loadOlm() {
  olmPromise ??= (async () => {
    const Olm = require('@matrix-org/olm');
    await Olm.init();
    return Olm;
  })();
  return olmPromise;
}

/** A file's text; `url` relative to this directory's module URLs (`new URL(…, import.meta.url)`). */
export const readText = (url) => readFileSync(url, 'utf8');

/** The package directory the API tests read package.json and the .d.ts from. */
export const pkgDir = '../pkg/';
