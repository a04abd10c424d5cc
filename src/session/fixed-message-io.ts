import type { FixedMessage } from './fixed-messages.js';
import type { InputChannel } from './input-channel.js';
import type { OutputChannel } from './output-channel.js';
import { ProtocolError, describeBytes } from './protocol-error.js';

/**
 * Read one fixed message: exactly its length, compared byte-for-byte, as xl's
 * `migrate_read_fixedmessage` does. A mismatch names the state, the expected
 * message and what arrived instead.
 */
export async function readFixedMessage(input: InputChannel, message: FixedMessage, state: string, timeoutMs: number): Promise<void> {
  const expected = `${message.name} message ${describeBytes(message.bytes)}`;
  const got = await input.readExact(message.bytes.length, { state, timeoutMs, expected });
  if (!Buffer.from(got).equals(Buffer.from(message.bytes))) {
    throw new ProtocolError(`${message.name} message contained unexpected data instead of ${describeBytes(message.bytes)}: got ${describeBytes(got)}`, {
      state,
      kind: 'unexpected-data',
      expected,
      actual: describeBytes(got),
    });
  }
}

/** Write one fixed message and wait until the transport accepted it. */
export async function writeFixedMessage(output: OutputChannel, message: FixedMessage, state: string, timeoutMs: number): Promise<void> {
  await output.writeFlushed(message.bytes, { state, timeoutMs, what: `${message.name} message` });
}
