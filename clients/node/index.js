// syncfake: start a private syncfake-server from a Node test and drive it.
//
//   const { startSyncfake } = require('syncfake');
//   const fake = await startSyncfake({ seed: 7, clock: 'manual' });
//   const client = fake.twilioClient();          // the `twilio` package, pointed at the fake
//   ...
//   await fake.stop();
//
// No runtime dependencies: node's child_process and fetch only. See README.md.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const STDERR_CAP = 64 * 1024; // the server's stderr kept for error messages (its tail)
const live = new Set(); // servers to kill if the process exits without stop()

process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch (_) {
      // already gone
    }
  }
});

class SyncfakeError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = 'SyncfakeError';
    Object.assign(this, details);
  }
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch (_) {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

// The syncfake checkout this package sits in (clients/node), if it does.
function checkoutRoot() {
  const root = path.resolve(__dirname, '..', '..');
  return fs.existsSync(path.join(root, 'fake_http', 'server_main.c')) ? root : null;
}

// Builds build/syncfake-server in the checkout (configured as `make` does).
function buildInCheckout(root) {
  const build = path.join(root, 'build');
  const steps = [];
  if (!fs.existsSync(path.join(build, 'CMakeCache.txt'))) {
    steps.push(['cmake', ['-S', root, '-B', build, '-DCMAKE_BUILD_TYPE=Release']]);
  }
  steps.push(['cmake', ['--build', build, '-j2', '--target', 'syncfake-server']]);
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20 * 60 * 1000 });
    if (r.status !== 0) {
      throw new SyncfakeError(
        `building syncfake-server failed: ${cmd} ${args.join(' ')}\n${r.error || ''}${r.stdout || ''}${r.stderr || ''}`,
      );
    }
  }
  return path.join(build, 'syncfake-server');
}

/**
 * Where the server binary is: options.server, then $SYNCFAKE_SERVER, then syncfake-server on
 * PATH (installed), then build/syncfake-server of the checkout this package is in (built there
 * when missing and options.build is not false).
 */
function findServer(options = {}) {
  const given = options.server || process.env.SYNCFAKE_SERVER;
  if (given) {
    if (!isExecutable(given)) throw new SyncfakeError(`syncfake-server not executable: ${given}`);
    return given;
  }
  const installed = onPath('syncfake-server');
  if (installed) return installed;
  const root = checkoutRoot();
  if (root) {
    const built = path.join(root, 'build', 'syncfake-server');
    if (isExecutable(built)) return built;
    if (options.build !== false) return buildInCheckout(root);
  }
  throw new SyncfakeError(
    'syncfake-server not found: install it (make install), put it on PATH, or set SYNCFAKE_SERVER',
  );
}

// {dropRate: 0.5} -> {DropRate: '0.5'}: the control API's Twilio-style parameter names.
function twilioParams(params = {}) {
  const out = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    out[key.charAt(0).toUpperCase() + key.slice(1)] = String(value);
  }
  return out;
}

function serverArgs(options) {
  const args = ['--port', String(options.port ?? 0), '--clock', options.clock || 'manual'];
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  if (options.host) args.push('--host', options.host);
  if (options.accountSid) args.push('--account-sid', options.accountSid);
  if (options.authToken) args.push('--auth-token', options.authToken);
  for (const [name, value] of Object.entries(options.limits || {})) {
    args.push('--limit', `${name}=${value}`);
  }
  return args.concat(options.args || []);
}

class Syncfake {
  constructor(child, announced, stderr) {
    this.process = child;
    this.baseUrl = announced.baseUrl;
    this.accountSid = announced.accountSid;
    this.authToken = announced.authToken;
    this._stderr = stderr;
    this._serviceSid = null;
    this._exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.faults = {
      add: async (rule) => this.request('POST', '/_syncfake/faults', twilioParams(rule)),
      remove: async (id) => this.request('DELETE', `/_syncfake/faults/${encodeURIComponent(id)}`),
      list: async () => this.request('GET', '/_syncfake/faults'),
    };
    this.errors = {
      inject: async (injection) => this.request('POST', '/_syncfake/errors', twilioParams(injection)),
    };
  }

  /** What the server has written to stderr so far (its last 64 KiB). */
  stderr() {
    return this._stderr.text;
  }

  /** HTTP Basic credentials of the fake's account, for any HTTP client. */
  get basicAuth() {
    return 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
  }

  /**
   * One request to the fake with the account's credentials: form-encoded `form`, JSON answer
   * (null for 204). A non-2xx answer rejects with a SyncfakeError carrying status, code and body.
   */
  async request(method, route, form) {
    const headers = { Authorization: this.basicAuth, Accept: 'application/json' };
    let body;
    if (form && Object.keys(form).length) {
      body = new URLSearchParams(form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(this.baseUrl + route, { method, headers, body });
    const text = await res.text();
    if (!res.ok) {
      let parsed = {};
      try {
        parsed = JSON.parse(text);
      } catch (_) {
        // not JSON: keep the text
      }
      throw new SyncfakeError(`${method} ${route}: ${res.status} ${parsed.message || text}`, {
        status: res.status,
        code: parsed.code,
        body: text,
      });
    }
    if (res.status === 204 || text === '') return null;
    return res.headers.get('content-type')?.includes('json') && !route.endsWith('/journal')
      ? JSON.parse(text)
      : text;
  }

  /** The official `twilio` client (from your project's node_modules), base URL on the fake. */
  twilioClient(twilioModule) {
    const twilio = twilioModule || require(require.resolve('twilio', { paths: [process.cwd()] }));
    const client = twilio(this.accountSid, this.authToken);
    client.sync.baseUrl = this.baseUrl; // client.sync is created once and cached by twilio-node
    return client;
  }

  /** A Sync service SID: options.serviceSid, else one service this helper creates once. */
  async defaultServiceSid() {
    if (!this._serviceSid) {
      const service = await this.request('POST', '/v1/Services', { FriendlyName: 'syncfake' });
      this._serviceSid = service.sid;
    }
    return this._serviceSid;
  }

  /** An access token for the client SDK (twilio-sync), minted on the fake's clock. */
  async token(identity, { serviceSid, ttl } = {}) {
    const sid = serviceSid || (await this.defaultServiceSid());
    const answer = await this.request('POST', '/_syncfake/tokens', twilioParams({
      identity, serviceSid: sid, ttl,
    }));
    return answer.token;
  }

  /** Options for twilio-sync's SyncClient: the Twilsock WebSocket and CDS on the fake. */
  syncClientOptions() {
    return {
      twilsock: { uri: this.baseUrl.replace(/^http/, 'ws') + '/v3/wsconnect' },
      cdsUri: this.baseUrl,
    };
  }

  /** Moves the manual clock by ms, running what falls due (expiries, deliveries). */
  async advance(ms) {
    return this.request('POST', '/_syncfake/clock', { AdvanceMs: String(ms) });
  }

  /** The clock: {now, now_ms, mode}. */
  async clock() {
    return this.request('GET', '/_syncfake/clock');
  }

  /** The journal as an array of entries (parsed NDJSON). */
  async journal() {
    const text = await this.request('GET', '/_syncfake/journal');
    return (text || '').split('\n').filter((line) => line).map((line) => JSON.parse(line));
  }

  /** A fresh fake with the same options (same seed: the same SIDs again). */
  async reset() {
    await this.request('POST', '/_syncfake/reset');
    this._serviceSid = null;
  }

  /** SIGTERM, then waits (SIGKILL after timeoutMs); rejects if the server did not exit 0. */
  async stop({ timeoutMs = 10000 } = {}) {
    const child = this.process;
    child.ref(); // unref'd after start: waiting for its exit must keep node running
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(true);
      }, timeoutMs);
      timer.unref();
    });
    const result = await Promise.race([this._exit.then(() => false), killed]);
    clearTimeout(timer);
    const { code, signal } = await this._exit;
    live.delete(child);
    if (result || code !== 0) {
      throw new SyncfakeError(
        `syncfake-server ${result ? `did not stop within ${timeoutMs} ms` : `exited with ${code ?? signal}`}` +
          `; its stderr:\n${this.stderr()}`,
        { exitCode: code, signal, stderr: this.stderr() },
      );
    }
  }
}

/**
 * Starts a private syncfake-server on a free loopback port and resolves once it announced
 * itself. options: seed, clock ('manual' | 'wall', default 'manual'), limits ({name: value}),
 * accountSid, authToken, args (extra command-line arguments), server (binary path), build
 * (false: never build one), startTimeoutMs (default 10000).
 */
async function startSyncfake(options = {}) {
  const server = findServer(options);
  const args = serverArgs(options);
  const child = spawn(server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const stderr = { text: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr.text = (stderr.text + chunk).slice(-STDERR_CAP);
  });
  const announced = await new Promise((resolve, reject) => {
    let out = '';
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      live.delete(child);
      // let stderr drain a moment so the message has it
      setTimeout(() => reject(new SyncfakeError(
        `syncfake-server (${server} ${args.join(' ')}) ${why}; its stderr:\n${stderr.text}`,
        { stderr: stderr.text },
      )), 50);
    };
    const timeoutMs = options.startTimeoutMs ?? 10000;
    const timer = setTimeout(() => fail(`did not announce itself within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (e) => fail(`could not start: ${e.message}`));
    child.once('exit', (code, signal) => fail(`exited with ${code ?? signal} before listening`));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = /^syncfake-server listening on (\S+)$/m.exec(out);
      const sid = /^account_sid (\S+)$/m.exec(out);
      const token = /^auth_token (\S+)$/m.exec(out);
      if (url && sid && token) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve({ baseUrl: url[1].replace(/\/+$/, ''), accountSid: sid[1], authToken: token[1] });
      }
    });
  });
  // A test that never calls stop() must not keep node alive: the exit hook kills the server.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();
  child.stdout.resume();
  return new Syncfake(child, announced, stderr);
}

module.exports = { startSyncfake, findServer, Syncfake, SyncfakeError };
