#!/usr/bin/env node
/**
 * `npm start`'s prestart: builds dist/ only when it is missing or older than a source file, so
 * a start after the first takes as long as `node dist/main.js` (tsc costs ~20 s here).
 * Compares modification times of src/**\/*.ts and the build's config files with dist/main.js.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const output = path.join(root, 'dist', 'main.js');
const inputs = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newest(dir) {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, fs.statSync(full).mtimeMs);
  }
  return latest;
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

const built = mtime(output);
const sources = Math.max(
  newest(path.join(root, 'src')),
  ...inputs.map((f) => mtime(path.join(root, f))),
);
if (built > 0 && built >= sources) process.exit(0);

process.stderr.write(built === 0 ? 'dist/ missing: building\n' : 'src/ changed: rebuilding\n');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
