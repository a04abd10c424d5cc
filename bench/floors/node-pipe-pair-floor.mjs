#!/usr/bin/env node
// The Node pipe-pair floor: the least two Node processes pay to move FILE
// through a pipe into a new file OUT, as `stream-migrate send --exec
// "receive -o OUT"` does, with no protocol, no checks and no fsync.
//
// The parent reads FILE with readSync into one 4 MiB buffer and writes it to
// the child's stdin, waiting for each write to be taken by the kernel before
// reading on. Node gives a child's stdin only as a non-blocking socketpair
// (libuv), so that write goes through the event loop: a wake-up each time the
// socket buffer (about 208 KiB) has room. The child reads fd 0 with blocking
// readSync into one reused 4 MiB buffer and writeSyncs it each time it is full
// (the receiver's batching: one write per 4 MiB, not per socket read).
// Prints the byte count (the child's).
//
// With --event-loop the child reads fd 0 the way the session receiver does
// (src/session/bulk-read-socket.ts: libuv reads straight into a 32 MiB ring,
// Node's `onread`), writing each 4 MiB: what a reader that keeps its event
// loop free pays over the blocking one (BENCHMARKS.md, 4 Dec).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const eventLoop = argv[0] === '--event-loop';
const [mode, ...args] = eventLoop ? argv.slice(1) : argv;
if (mode === '--child') receive(args[0]);
else if (mode === '--event-loop-child') receiveInEventLoop(args[0]);
else if (mode && args[0]) await send(mode, args[0]);
else {
  process.stderr.write('usage: node-pipe-pair-floor.mjs [--event-loop] FILE OUT\n');
  process.exitCode = 2;
}

async function send(path, out) {
  const childMode = eventLoop ? '--event-loop-child' : '--child';
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), childMode, out], { stdio: ['pipe', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    await new Promise((resolve, reject) => child.stdin.write(buf.subarray(0, n), (e) => (e ? reject(e) : resolve())));
  }
  closeSync(fd);
  child.stdin.end();
  const code = await exited;
  if (code !== 0) process.exitCode = 1;
}

function receive(out) {
  const wfd = openSync(out, 'wx');
  const buf = Buffer.allocUnsafe(4 << 20);
  let total = 0;
  let filled = 0;
  for (;;) {
    const n = readSync(0, buf, filled, buf.length - filled, null);
    filled += n;
    total += n;
    if (filled === buf.length || (n === 0 && filled > 0)) {
      let done = 0;
      while (done < filled) done += writeSync(wfd, buf, done, filled - done);
      filled = 0;
    }
    if (n === 0) break;
  }
  closeSync(wfd);
  process.stdout.write(`${total}\n`);
}

function receiveInEventLoop(out) {
  const wfd = openSync(out, 'wx');
  const ring = Buffer.allocUnsafe(32 << 20);
  const BATCH = 4 << 20;
  let at = 0;
  let unwritten = 0; // start of the bytes read but not yet written
  let total = 0;
  const flush = () => {
    let done = unwritten;
    while (done < at) done += writeSync(wfd, ring, done, at - done);
    unwritten = at;
  };
  const input = new Socket({
    fd: 0,
    readable: true,
    writable: false,
    onread: {
      buffer: () => {
        if (ring.length - at < 1 << 20) {
          flush();
          at = 0;
          unwritten = 0;
        }
        return ring.subarray(at);
      },
      callback: (n) => {
        at += n;
        total += n;
        if (at - unwritten >= BATCH) flush();
        return true;
      },
    },
  });
  input.on('end', () => {
    flush();
    closeSync(wfd);
    process.stdout.write(`${total}\n`);
  });
  input.resume();
}
