import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** What `nest new` (CLI 11) puts in an app's dependencies: the peers a host already has. */
const NEST_NEW_HAS = ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs'];

/** `name@range` of an npm install argument; `^11` and `^11.0.0` are one range. */
function parseSpec(spec: string): [string, string] {
  const at = spec.lastIndexOf('@');
  return [spec.slice(0, at), caretMajor(spec.slice(at + 1))];
}

function caretMajor(range: string): string {
  return range.replace(/^\^(\d+)\.0\.0$/, '^$1');
}

describe("the README's install line", () => {
  const line = /^npm install nestjs-hinted-handoff (.*)$/m.exec(readme);

  it('names every required peer a fresh Nest app lacks, with the range package.json declares', () => {
    expect(line).not.toBeNull();
    const installed = Object.fromEntries(line![1].trim().split(/\s+/).map(parseSpec));
    const required = Object.entries(manifest.peerDependencies).filter(
      ([name]) => !manifest.peerDependenciesMeta[name]?.optional && !NEST_NEW_HAS.includes(name),
    );
    expect(installed).toEqual(
      Object.fromEntries(required.map(([name, range]) => [name, caretMajor(range)])),
    );
  });

  it('declares the Nest 11 line only, the one CI proves', () => {
    for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/terminus']) {
      expect(manifest.peerDependencies[name]).toBe('^11.0.0');
    }
  });

  it('names the optional peers of the library features with their declared ranges', () => {
    for (const name of ['prom-client', '@willsoto/nestjs-prometheus', '@nestjs/config']) {
      expect(manifest.peerDependenciesMeta[name]).toEqual({ optional: true });
      const major = manifest.peerDependencies[name].replace(/^\^(\d+).*$/, '$1');
      expect(readme).toContain(
        `\`${name}@^${major}`.replace(/^`/, '') === '' ? '' : `${name}@^${major}`,
      );
    }
  });
});
