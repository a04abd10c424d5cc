import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BANNER, GO, PERMISSION, POSTCOPY_SYNC, READY, REPORT, reportStatusFromRc } from '../src/session/fixed-messages.js';
import { readFixedMessage } from '../src/session/fixed-message-io.js';
import { InputChannel } from '../src/session/input-channel.js';
import { ProtocolError } from '../src/session/protocol-error.js';

describe('fixed messages (spec/PROTOCOLS.md §1.2)', () => {
  it('have the exact wire lengths', () => {
    expect(BANNER.bytes.length).toBe(54);
    expect(READY.bytes.length).toBe(34);
    expect(GO.bytes.length).toBe(44);
    expect(PERMISSION.bytes.length).toBe(44);
    expect(REPORT.bytes.length).toBe(39);
    expect(POSTCOPY_SYNC.bytes.length).toBe(42);
  });

  it('banner ends in a newline and carries no NUL; the others end in exactly one NUL', () => {
    expect(BANNER.bytes.at(-1)).toBe(0x0a);
    expect(BANNER.bytes.includes(0)).toBe(false);
    for (const message of [READY, GO, PERMISSION, REPORT, POSTCOPY_SYNC]) {
      expect(message.bytes.at(-1)).toBe(0);
      expect(message.bytes.indexOf(0)).toBe(message.bytes.length - 1);
    }
  });

  it('receiver → sender bytes of a successful run total 128, as observed on real Xen 4.17', () => {
    expect(BANNER.bytes.length + READY.bytes.length + REPORT.bytes.length + 1).toBe(128);
  });

  it('go and permission are the same bytes', () => {
    expect(Buffer.from(GO.bytes).equals(Buffer.from(PERMISSION.bytes))).toBe(true);
    expect(Buffer.from(GO.bytes).toString('latin1')).toBe('domain is yours, you are cleared to unpause\0');
  });

  it('encodes a negative libxl rc into the status byte like xl', () => {
    expect(reportStatusFromRc(-3)).toBe(3);
    expect(reportStatusFromRc(0)).toBe(0);
  });
});

describe('readFixedMessage', () => {
  const feed = (bytes: Uint8Array, end = false): InputChannel => {
    const stream = new PassThrough();
    const channel = new InputChannel(stream);
    stream.write(bytes);
    if (end) stream.end();
    return channel;
  };

  it('reads exactly the message and leaves what follows', async () => {
    const channel = feed(new Uint8Array([...READY.bytes, 0x42]));
    await readFixedMessage(channel, READY, 'AWAIT_READY', 1000);
    expect(channel.bufferedBytes).toBe(1);
  });

  it('names state, expectation and what arrived on a mismatch', async () => {
    const wrong = new Uint8Array(READY.bytes);
    wrong[0] = 'D'.charCodeAt(0);
    const error = await readFixedMessage(feed(wrong), READY, 'AWAIT_READY', 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    const protocolError = error as ProtocolError;
    expect(protocolError.state).toBe('AWAIT_READY');
    expect(protocolError.kind).toBe('unexpected-data');
    expect(protocolError.expected).toContain('domain received, ready to unpause');
    expect(protocolError.actual).toContain('Domain received');
    expect(protocolError.message).toContain('contained unexpected data instead of');
  });

  it('reports a peer that closes mid-message, with the partial bytes', async () => {
    const error = (await readFixedMessage(feed(BANNER.bytes.subarray(0, 10), true), BANNER, 'PREAMBLE', 1000).catch((e: unknown) => e)) as ProtocolError;
    expect(error.kind).toBe('peer-closed');
    expect(error.state).toBe('PREAMBLE');
    expect(error.actual).toContain('xl migrat');
  });

  it('times out when nothing arrives', async () => {
    const error = (await readFixedMessage(feed(new Uint8Array(0)), GO, 'AWAIT_GO', 30).catch((e: unknown) => e)) as ProtocolError;
    expect(error.kind).toBe('timeout');
    expect(error.state).toBe('AWAIT_GO');
  });
});
