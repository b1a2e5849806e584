// Builds dist/footfall.js from src/ and measures it: the minified file gzipped must stay
// within LIMIT bytes, or the build fails and writes nothing.

import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const LIMIT = 3072;
const OUTPUT = 'dist/footfall.js';
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

const result = await build({
  entryPoints: ['src/main.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  define: { __VERSION__: JSON.stringify(version) },
  legalComments: 'none',
  write: false,
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`${OUTPUT}: ${code.length} bytes minified, ${gzipped} bytes gzipped (limit ${LIMIT})`);
if (gzipped > LIMIT) {
  console.error(`footfall.js is ${gzipped - LIMIT} bytes over its limit of ${LIMIT} bytes gzipped`);
  process.exit(1);
}
mkdirSync('dist', { recursive: true });
writeFileSync(OUTPUT, code);
