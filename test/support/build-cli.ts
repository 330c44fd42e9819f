import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { transformFile } from '@swc/core';

const SRC = resolve(__dirname, '../../src');

/**
 * Compiles src/cli/hh.ts and every src file it requires (relative imports, followed) with swc
 * into `outDir`, keeping the layout of src/. Faster than a full tsc build, and independent of
 * files elsewhere in src that the CLI does not use. Returns the path of the compiled hh.js.
 */
export async function buildCli(outDir: string): Promise<string> {
  const seen = new Set<string>();
  const pending = [join(SRC, 'cli/hh.ts')];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const { code } = await transformFile(file, {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
      sourceMaps: false,
    });
    const target = join(outDir, relative(SRC, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, code);
    for (const m of code.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      pending.push(`${resolve(dirname(file), m[1])}.ts`);
    }
  }
  return join(outDir, 'cli/hh.js');
}
