// Holds a secp256k1 and a P-256 key pair made by `elliptic` (Debian's node-elliptic, on
// node-bn.js), as a Node.js application does: each key pair is generated, signs a few
// messages, and its public point is read with getPublic() and checks the signatures. bn.js
// keeps every number as a JavaScript array of 26-bit digits, which V8 stores as small
// integers; elliptic keeps secp256k1's coordinates in normal form and P-256's in Montgomery
// form. Prints "ready" and waits. A line "keys PATH" on stdin (sent after the test has dumped
// the process) writes each private scalar's hex to PATH, readable by its owner only, and prints
// "written"; the program exits when stdin closes. The scalars are never printed.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const readline = require('readline');
const EC = require('elliptic').ec;

// Byte i (0: the most significant) of a 256-bit number, read from its digits with no copy.
function byteAt(n, i) {
  let v = 0;
  for (let k = 0; k < 8; ++k) v |= n.testn(8 * (31 - i) + k) << k;
  return v;
}

// dumpguard's test of a candidate's big-endian bytes (detect/byte_statistics.cpp), as
// test_dump_closure.py's looks_random writes it.
function looksRandom(n) {
  let high = 0;
  const distinct = new Set();
  for (let i = 0; i < 32; ++i) {
    high += byteAt(n, i) >> 7;
    distinct.add(byteAt(n, i));
  }
  if (high < 4 || distinct.size < 16) return false;
  for (let i = 0; i + 8 <= 32; i += 8) {
    const w = [];
    for (let k = 0; k < 8; ++k) w.push(byteAt(n, i + k));
    if (w.slice(4).every((b) => b === 0) || w.slice(4).every((b) => b === 0xff)) return false;
    if (w[7] === 0 && w[6] === 0 && [0x7f, 0x55, 0x56].includes(w[5])) return false;
    if (w.every((b) => b >= 0x20 && b < 0x7f)) return false;
  }
  return true;
}

// Whether a number as elliptic holds it is outside the documented blind spot of V8 digit
// arrays (docs/detectors.md, `ec-scalar`): at least 241 bits, every digit but the most
// significant with a bit set in its upper half, one of them with one of the digit's top two
// bits, and bytes that pass looksRandom. A key whose scalar or held x is in it is drawn again.
function outsideBlindSpot(n) {
  if (n.bitLength() < 241 || n.length !== 10) return false;
  let topTwo = false;
  for (let i = 0; i < 9; ++i) {
    if (n.words[i] < (1 << 13)) return false;
    if (n.words[i] >= (1 << 24)) topTwo = true;
  }
  return topTwo && looksRandom(n);
}

const held = [];
for (const curve of ['secp256k1', 'p256']) {
  const ec = new EC(curve);
  let key;
  do {
    key = ec.genKeyPair();
  } while (!outsideBlindSpot(key.getPrivate()) || !outsideBlindSpot(key.getPublic().x));
  const signatures = [];
  for (let i = 0; i < 4; ++i) {
    const digest = crypto.createHash('sha256').update(`message ${i} for ${curve}`).digest();
    const signature = key.sign(digest);
    if (!key.verify(digest, signature)) throw new Error('a signature does not verify');
    signatures.push(signature);
  }
  const pub = key.getPublic();
  held.push({ curve, key, pub, signatures });
}

console.log('ready');
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.startsWith('keys ')) return;
  const text = held.map((h) => h.key.getPrivate('hex')).join('\n') + '\n';
  fs.writeFileSync(line.slice(5), text, { mode: 0o600 });
  console.log('written');
});
lines.on('close', () => {
  console.log(held.length, held.map((h) => h.signatures.length).join(' '));
  process.exit(0);
});
