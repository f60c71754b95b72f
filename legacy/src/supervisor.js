// Keeps the legacy server running the way its host did (inferred: a process manager restarting it
// after every crash, as systemd's Restart=always with RestartSec=100ms does). Each crash and restart
// is logged as one JSON line; the server's stderr (the uncaught exception) is wrapped into JSON too.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const RESTART_DELAY_MS = Number(process.env.LEGACY_RESTART_DELAY_MS || 100);
let child;
let stopping = false;
let restarts = 0;

function log(fields, msg) {
  process.stdout.write(
    `${JSON.stringify({ time: Date.now(), service: 'legacy-supervisor', ...fields, msg })}\n`,
  );
}

function start() {
  child = spawn(process.execPath, [path.join(__dirname, 'server.js')], {
    env: process.env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const stderr = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  child.on('exit', (code, signal) => {
    const error = stderr.find((l) => /^\w*Error:/.test(l.trim()));
    if (stopping) return;
    restarts++;
    log({ exitCode: code, signal, error, restarts }, 'legacy process exited; restarting');
    setTimeout(start, RESTART_DELAY_MS);
  });
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    stopping = true;
    if (child && child.exitCode === null) child.kill('SIGTERM');
    log({ restarts }, 'stopped');
    process.exit(0);
  });
}
start();
