// Holds an RSA key's numbers as JavaScript arrays of 28-bit digits, as jsbn keeps them (V8
// stores each digit as a small integer, a tagged Smi), and the key's PEM text. The values come
// from a JSON file the test wrote. A second key's numbers are held only as such arrays, with no
// PEM anywhere: the scan must discover it from the digits alone. Prints "ready" and waits until
// stdin closes.
'use strict';
const fs = require('fs');
const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const pem = fs.readFileSync(spec.pem, 'utf8');
function digits(hex, bits) {
  let v = BigInt('0x' + hex);
  const mask = (1n << BigInt(bits)) - 1n;
  const out = [];
  while (v > 0n) {
    out.push(Number(v & mask));
    v >>= BigInt(bits);
  }
  return out;
}
const held = spec.numbers.map((h) => digits(h, 28));
const blind = spec.blind.map((h) => digits(h, 28));
delete spec.blind;
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  console.log(held.length, blind.length, pem.length);
  process.exit(0);
});
