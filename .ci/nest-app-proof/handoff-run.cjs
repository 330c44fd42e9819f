#!/usr/bin/env node
/* global require, process, console, setTimeout, Buffer */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain Node script run by CI, not library code */
// The built app (`node dist/main`) against a real HTTP node that is down, then up: a POST is
// handed off, /health shows the backlog, and the node receives the item once it listens.
// Run from the app's directory; exits non-zero with what went wrong.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const freePort = () =>
  new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function call(method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      { method, agent: false, headers: data ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          const json = /json/.test(res.headers['content-type'] ?? '');
          resolve({ status: res.statusCode, body: json ? JSON.parse(text) : text });
        });
      },
    );
    req.once('error', reject);
    req.end(data);
  });
}

async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hh-proof-'));
  const [appPort, nodePort] = [await freePort(), await freePort()];
  const received = [];
  const node = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  let log = '';
  const app = spawn(process.execPath, ['dist/main'], {
    env: {
      PATH: process.env.PATH,
      PORT: String(appPort),
      HH_DATA_DIR: dataDir,
      HH_NODES: `a=http://127.0.0.1:${nodePort}/write`,
      HH_RETRY_INTERVAL: '10ms',
      HH_RETRY_MAX_INTERVAL: '100ms',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  app.stdout.on('data', (c) => (log += c));
  app.stderr.on('data', (c) => (log += c));
  const base = `http://127.0.0.1:${appPort}`;
  try {
    await until('the app to listen', async () => (await call('GET', `${base}/`)).status === 200);
    const posted = await call('POST', `${base}/items/a`, { name: 'proof' });
    if (posted.status !== 201 || posted.body.result !== 'handed-off') {
      throw new Error(`POST /items/a with node a down: ${JSON.stringify(posted)}`);
    }
    const health = await call('GET', `${base}/health`);
    if (health.body.details.handoff.nodes.a.entries !== 1) {
      throw new Error(`/health did not show the backlog: ${JSON.stringify(health.body)}`);
    }
    await new Promise((resolve) => node.listen(nodePort, '127.0.0.1', resolve));
    await until('node a to receive the item', () => received.length > 0);
    if (received.join('\n') !== '{"name":"proof"}') throw new Error(`node a got ${received}`);
    await until('the backlog to drain', async () => {
      const h = await call('GET', `${base}/health`);
      return h.body.details.handoff.nodes.a.entries === 0;
    });
    const unknown = await call('POST', `${base}/items/nope`, {});
    if (unknown.status !== 404) throw new Error(`unknown node: ${JSON.stringify(unknown)}`);
    console.log('hand-off and replay through the built app: ok');
  } catch (err) {
    console.error(`${err.message}\n--- app output ---\n${log}`);
    process.exitCode = 1;
  } finally {
    app.kill('SIGKILL');
    node.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
