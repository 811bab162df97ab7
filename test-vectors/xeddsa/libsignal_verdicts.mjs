#!/usr/bin/env node
// Records libsignal's own verdict on every case of negative.json (PublicKey.verify of each
// installed version, through interop/libsignal/peer.mjs), so the file says where caudata is
// stricter than libsignal:
//
//   bash interop/libsignal/setup.sh && node test-vectors/xeddsa/libsignal_verdicts.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPeer } from '../../interop/libsignal/peer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.join(here, 'negative.json');
const v = JSON.parse(fs.readFileSync(file, 'utf8'));
const peer = createPeer();
const versions = ['0.72.1', '0.103.0'];
for (const c of [...v.originals, ...v.cases]) {
  c.libsignal = {};
  for (const lib of versions) {
    const r = await peer.handle({ cmd: 'xeddsa_verify', lib, public_key: '05' + c.public_key, msg: c.message, sig: c.signature });
    c.libsignal[lib] = r.ok ? r.valid : `error: ${r.error}`;
  }
}
fs.writeFileSync(file, JSON.stringify(v, null, 2) + '\n');
process.exit(0);
