// Regenerates policies/capabilities.json: the pinned opa's capabilities cut down to the builtins that
// its wasm compiler implements natively (policies/wasm-native-builtins.txt, read from the opa source of
// internal/compiler/wasm/wasm.go at the pinned version), so `opa build -t wasm` rejects anything the
// JavaScript SDK would have to supply.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { opaBinary } from '../src/engine/opa-binary.ts';

const native = new Set(readFileSync('policies/wasm-native-builtins.txt', 'utf8').split('\n').filter(Boolean));
const current = JSON.parse(execFileSync(opaBinary(), ['capabilities', '--current'], { encoding: 'utf8' })) as {
  builtins: { name: string }[];
  [key: string]: unknown;
};
const builtins = current.builtins.filter((builtin) => native.has(builtin.name));
const missing = [...native].filter((name) => !builtins.some((builtin) => builtin.name === name));
if (missing.length > 0) throw new Error(`not in opa capabilities: ${missing.join(', ')}`);
writeFileSync('policies/capabilities.json', JSON.stringify({ ...current, builtins }, null, 2) + '\n');
console.log(`policies/capabilities.json: ${builtins.length} wasm-native builtins`);
