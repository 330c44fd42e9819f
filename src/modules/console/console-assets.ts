import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { CONSOLE_SCRIPT } from './assets/console-script';
import { CONSOLE_STYLE } from './assets/console-style';

/** One file the console serves, held in memory with its gzip form. */
export interface ConsoleAsset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

function asset(body: Buffer, type: string): ConsoleAsset {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/** uPlot's browser build, from the `uplot` dependency: read once, when the module is built. */
function uplotFile(name: string): Buffer {
  return readFileSync(require.resolve(`uplot/dist/${name}`));
}

/**
 * Every static file of the console, by the name in its URL. Built once at start-up: a request
 * only looks a name up in this map, so no request path ever reaches the filesystem.
 */
export function loadConsoleAssets(): ReadonlyMap<string, ConsoleAsset> {
  return new Map([
    ['uplot.js', asset(uplotFile('uPlot.iife.min.js'), 'text/javascript; charset=utf-8')],
    ['uplot.css', asset(uplotFile('uPlot.min.css'), 'text/css; charset=utf-8')],
    ['console.js', asset(Buffer.from(CONSOLE_SCRIPT), 'text/javascript; charset=utf-8')],
    ['console.css', asset(Buffer.from(CONSOLE_STYLE), 'text/css; charset=utf-8')],
  ]);
}
