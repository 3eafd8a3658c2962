// harness.js: what every browser test of syncfake shares: Debian's Chromium driven by
// playwright-core (pinned in tests/browser/package.json), syncfake-server as a child process, a
// static server for the page on another origin than the fake, and a console watch.
//
// Chromium: /usr/bin/chromium (the Debian package; tests/browser/setup.sh installs it), headless,
// no sandbox (CI runs as root), no GPU, QUIC, first-run UI, background networking, component
// updates or sync. playwright's launch() gives every browser a fresh temporary --user-data-dir
// and removes it at close, so nothing carries over from one run to the next.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER = process.env.SYNCFAKE_SERVER || path.join(ROOT, 'build', 'syncfake-server');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The SDK's own browser bundle, unmodified, from the twilio-sync 4.0.1 that tests/sdk pins.
const SDK_BUNDLE = path.join(ROOT, 'tests', 'sdk', 'node_modules', 'twilio-sync', 'builds', 'twilio-sync.js');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT_MS = Number(process.env.BROWSER_WAIT_MS || 15000);

function launchBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: 60000 });
}

// A free TCP port on 127.0.0.1 (for a server that must come back on the same port).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts syncfake-server with `args`; resolves once its banner is printed (one write):
// {proc, base, port, banner: {account_sid, auth_token, instance_id, ...}, auth, stop()}.
function startServer(args) {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(SERVER)) return reject(new Error(`no server binary at ${SERVER} (set SYNCFAKE_SERVER or make)`));
    const proc = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`syncfake-server printed no banner within ${WAIT_MS} ms:\n${out}${err}`));
    }, WAIT_MS);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      if (!/^seed .*\n/m.test(out)) return;
      clearTimeout(timer);
      const banner = {};
      for (const line of out.split('\n').slice(1)) {
        const sp = line.indexOf(' ');
        if (sp > 0) banner[line.slice(0, sp)] = line.slice(sp + 1);
      }
      const base = /listening on (http:\/\/\S+)/.exec(out)[1];
      const auth = 'Basic ' + Buffer.from(`${banner.account_sid}:${banner.auth_token}`).toString('base64');
      resolve({ proc, base, port: Number(new URL(base).port), banner, auth, stderr: () => err, stop: () => stopServer(proc, () => err) });
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`syncfake-server exited (${code}) before its banner:\n${out}${err}`));
    });
  });
}

// SIGTERM; rejects unless the server exits by itself with status 0 within 5 s.
function stopServer(proc, stderr) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', (code, signal) => {
      clearTimeout(kill);
      if (code === 0) resolve();
      else reject(new Error(`syncfake-server ended with code ${code}, signal ${signal}:\n${stderr()}`));
    });
    proc.kill('SIGTERM');
  });
}

// A REST or control call from the test itself (Node), with the server's credentials.
async function call(srv, method, p, form) {
  const init = { method, headers: { Authorization: srv.auth }, signal: AbortSignal.timeout(WAIT_MS) };
  if (form) {
    init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const r = await fetch(srv.base + p, init);
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p} -> ${r.status} ${text}`);
  return text && r.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text;
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css' };

// Serves the files of `dir` and the SDK bundle at /twilio-sync.js on 127.0.0.1 (another port,
// so another origin, than the fake). Resolves {origin, close()}.
function servePage(dir) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://page');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = url.pathname === '/twilio-sync.js' ? SDK_BUNDLE
      : path.join(dir, path.normalize(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(dir) && file !== SDK_BUNDLE) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file, (e, data) => {
      if (e) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({
      origin: `http://127.0.0.1:${server.address().port}`,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
    }));
  });
}

// Collects a page's console errors and uncaught exceptions into `sink` (an array of strings).
function watchConsole(page, sink, who) {
  page.on('console', (m) => {
    if (m.type() === 'error') sink.push(`${who} console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => sink.push(`${who} uncaught: ${e && e.message}`));
}

// Polls cond() every 20 ms until truthy (returns it) or WAIT_MS pass.
async function until(cond, what, ms = WAIT_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

module.exports = { launchBrowser, freePort, startServer, call, servePage, watchConsole, until, SDK_BUNDLE, SERVER, WAIT_MS, CHROMIUM_FLAGS };
