#!/usr/bin/env node
/* global require, process, console */
/* eslint-disable @typescript-eslint/no-require-imports, no-restricted-syntax -- a plain Node script run by CI, not library code */
// Writes the README's app snippets into a generated Nest app: every ```ts block whose first line
// is `// <path>` becomes that file (relative to the app). Prints the paths it wrote; fails when
// the README has none, so a renamed section cannot make the proof vacuous.
const fs = require('node:fs');
const path = require('node:path');

const [readme, appDir] = process.argv.slice(2);
const text = fs.readFileSync(readme, 'utf8');
const blocks = [...text.matchAll(/```ts\n\/\/ ((?:src|test)\/[\w./-]+\.ts)\n([\s\S]*?)```/g)];
if (blocks.length === 0) {
  console.error(`no "// src/…" or "// test/…" ts blocks in ${readme}`);
  process.exit(1);
}
for (const [, file, body] of blocks) {
  const target = path.join(appDir, file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, body);
  console.log(`wrote ${file}`);
}
