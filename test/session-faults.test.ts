import { describe, expect, it } from 'vitest';
import { DeviceRefusedError } from '../src/session/device-hooks.js';
import { BANNER, READY, REPORT } from '../src/session/fixed-messages.js';
import type { MigrationVariant } from '../src/session/migration-variant.js';
import { MIGRATION_VARIANTS } from '../src/session/migration-variant.js';
import type { ProtocolFailureKind } from '../src/session/protocol-error.js';
import { protocolSteps, type ProtocolStepId } from '../src/session/protocol-steps.js';
import type { ReceiverState } from '../src/session/receiver-states.js';
import type { SenderState } from '../src/session/sender-states.js';
import { ExpectedBytesTracker } from './support/session-fake-tracker.js';
import { runPair, type PairOptions, type PairRun } from './support/session-harness.js';
import { exampleXlSave, postcopyStream, remusStream } from './support/session-streams.js';

/**
 * Fault injection at every protocol step (spec/PROTOCOLS.md §1.3–1.5). Each case
 * says where the fault is and in which defined state both sides must end.
 * Offsets: receiver→sender = banner [0,54), ready [54,88), report [88,127) +
 * status [127], permission [128,172); sender→receiver = xl header [0,55),
 * libxl stream [55,247), go [247,291).
 */
interface FaultCase {
  readonly name: string;
  readonly setup: Omit<PairOptions, 'variant' | 'bytes' | 'trackerFactory'>;
  /** Several states are possible only where the fault races the peer's own progress. */
  readonly sender: SenderState | readonly SenderState[];
  readonly senderFailedIn?: SenderState;
  readonly senderKind?: ProtocolFailureKind;
  readonly receiver: ReceiverState | readonly ReceiverState[];
  readonly receiverFailedIn?: ReceiverState;
  readonly receiverKind?: ProtocolFailureKind;
  /** After the point of no return the receiver legitimately keeps its copy. */
  readonly fileKept?: boolean;
}

const plain = exampleXlSave();
const N = plain.length;
const H = 55;
const R_READY = BANNER.bytes.length;
const R_REPORT = R_READY + READY.bytes.length;
const R_PERMISSION = R_REPORT + REPORT.bytes.length + 1;
const failingStart = { receiver: { onStart: () => Promise.reject(new Error('unpause failed')) } } as const;
const refusingDevice = { deviceType: 'vtpm', canMigrate: () => false };

const PLAIN_CASES: Record<ProtocolStepId & PlainStep, readonly FaultCase[]> = {
  'device-check': [
    {
      name: 'step-0 hook vetoes',
      setup: { sender: { deviceHooks: [refusingDevice] } },
      sender: 'RESUMED',
      senderFailedIn: 'PREAMBLE',
      senderKind: 'refused',
      receiver: 'DESTROYED',
    },
  ],
  banner: [
    {
      name: 'wrong banner',
      setup: { fault: { kind: 'corrupt', direction: 'r2s', offset: 5 } },
      sender: 'RESUMED',
      senderFailedIn: 'PREAMBLE',
      senderKind: 'unexpected-data',
      receiver: 'DESTROYED',
    },
    {
      name: 'receiver killed mid-banner',
      setup: { fault: { kind: 'reset', direction: 'r2s', offset: 20 } },
      sender: 'RESUMED',
      senderFailedIn: 'PREAMBLE',
      senderKind: 'peer-closed',
      receiver: 'DESTROYED',
    },
    {
      name: 'banner stalls',
      setup: { fault: { kind: 'stall', direction: 'r2s', offset: 0 } },
      sender: 'RESUMED',
      senderFailedIn: 'PREAMBLE',
      senderKind: 'timeout',
      receiver: 'DESTROYED',
    },
  ],
  'xl-header': [
    {
      name: 'corrupt xl magic',
      setup: { fault: { kind: 'corrupt', direction: 's2r', offset: 0 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverFailedIn: 'RECEIVING',
      receiverKind: 'bad-stream',
    },
    {
      name: 'sender killed in the header',
      setup: { fault: { kind: 'reset', direction: 's2r', offset: 10 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverFailedIn: 'RECEIVING',
      receiverKind: 'peer-closed',
    },
  ],
  stream: [
    {
      name: 'corrupt libxl ident',
      setup: { fault: { kind: 'corrupt', direction: 's2r', offset: H + 2 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverFailedIn: 'RECEIVING',
      receiverKind: 'bad-stream',
    },
    {
      name: 'sender closes mid-stream',
      setup: { fault: { kind: 'end', direction: 's2r', offset: N - 5 } },
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_READY',
      receiver: 'DESTROYED',
      receiverFailedIn: 'RECEIVING',
      receiverKind: 'peer-closed',
    },
    {
      name: 'sender killed mid-stream',
      setup: { fault: { kind: 'reset', direction: 's2r', offset: N - 5 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverFailedIn: 'RECEIVING',
      receiverKind: 'peer-closed',
    },
    {
      name: 'stream stalls',
      setup: { fault: { kind: 'stall', direction: 's2r', offset: N - 5 } },
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_READY',
      receiver: 'DESTROYED',
      receiverFailedIn: 'RECEIVING',
      receiverKind: 'timeout',
    },
  ],
  ready: [
    {
      name: 'wrong ready',
      setup: { fault: { kind: 'corrupt', direction: 'r2s', offset: R_READY + 3 } },
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_READY',
      senderKind: 'unexpected-data',
      receiver: 'DESTROYED',
      receiverFailedIn: 'AWAIT_GO',
    },
    {
      name: 'receiver killed before ready',
      setup: { fault: { kind: 'reset', direction: 'r2s', offset: R_READY } },
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_READY',
      senderKind: 'peer-closed',
      receiver: 'DESTROYED',
    },
    {
      name: 'ready stalls',
      setup: { fault: { kind: 'stall', direction: 'r2s', offset: R_READY } },
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_READY',
      senderKind: 'timeout',
      receiver: 'DESTROYED',
      receiverFailedIn: 'AWAIT_GO',
    },
  ],
  rename: [
    {
      name: 'source rename fails',
      setup: {
        sender: {
          domain: {
            name: 'guest',
            rename: (to: string) => {
              if (to.endsWith('--migratedaway')) throw new Error('xenstore busy');
            },
          },
        },
      },
      sender: 'RESUMED',
      senderFailedIn: 'RENAMED',
      senderKind: 'hook-failed',
      receiver: 'DESTROYED',
      receiverFailedIn: 'AWAIT_GO',
    },
  ],
  go: [
    // The receiver answers a bad GO with a failure report and permission: the sender resumes.
    {
      name: 'wrong go',
      setup: { fault: { kind: 'corrupt', direction: 's2r', offset: N + 3 } },
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_REPORT',
      senderKind: 'remote-failure',
      receiver: 'PERMISSION_SENT',
      receiverFailedIn: 'AWAIT_GO',
      receiverKind: 'unexpected-data',
    },
    {
      name: 'go stalls',
      setup: { fault: { kind: 'stall', direction: 's2r', offset: N } },
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_REPORT',
      senderKind: 'remote-failure',
      receiver: 'PERMISSION_SENT',
      receiverFailedIn: 'AWAIT_GO',
      receiverKind: 'timeout',
    },
    // Past the point of no return a dead link leaves the sender FAILED_BADLY (manual cleanup).
    {
      name: 'sender killed while sending go',
      setup: { fault: { kind: 'reset', direction: 's2r', offset: N + 10 } },
      sender: 'FAILED_BADLY',
      receiver: 'DESTROYED',
      receiverFailedIn: 'AWAIT_GO',
      receiverKind: 'peer-closed',
    },
  ],
  start: [
    {
      name: 'receiver cannot start its copy',
      setup: failingStart,
      sender: 'RESUMED',
      senderFailedIn: 'AWAIT_REPORT',
      senderKind: 'remote-failure',
      receiver: 'PERMISSION_SENT',
      receiverFailedIn: 'STARTING',
      receiverKind: 'hook-failed',
    },
  ],
  report: [
    // The receiver already started its copy (point of no return passed): it keeps it.
    {
      name: 'wrong report',
      setup: { fault: { kind: 'corrupt', direction: 'r2s', offset: R_REPORT + 1 } },
      sender: 'FAILED_BADLY',
      senderFailedIn: 'AWAIT_REPORT',
      senderKind: 'unexpected-data',
      receiver: 'DONE',
      fileKept: true,
    },
    {
      name: 'report stalls',
      setup: { fault: { kind: 'stall', direction: 'r2s', offset: R_REPORT } },
      sender: 'FAILED_BADLY',
      senderFailedIn: 'AWAIT_REPORT',
      senderKind: 'timeout',
      receiver: 'DONE',
      fileKept: true,
    },
    {
      name: 'receiver closes before the status byte',
      setup: { fault: { kind: 'end', direction: 'r2s', offset: R_PERMISSION - 1 } },
      sender: 'FAILED_BADLY',
      senderFailedIn: 'AWAIT_REPORT',
      senderKind: 'peer-closed',
      receiver: 'DONE',
      fileKept: true,
    },
  ],
  'destroy-source': [
    {
      name: 'destroying the source fails',
      setup: { sender: { domain: { name: 'guest', destroy: () => Promise.reject(new Error('domain busy')) } } },
      sender: 'FAILED_BADLY',
      senderFailedIn: 'AWAIT_REPORT',
      senderKind: 'hook-failed',
      receiver: 'DONE',
      fileKept: true,
    },
  ],
  permission: [
    {
      name: 'wrong permission',
      setup: { ...failingStart, fault: { kind: 'corrupt', direction: 'r2s', offset: R_PERMISSION + 2 } },
      sender: 'FAILED_BADLY',
      senderFailedIn: 'AWAIT_PERMISSION',
      senderKind: 'unexpected-data',
      receiver: 'PERMISSION_SENT',
    },
    {
      name: 'permission never comes',
      setup: { ...failingStart, fault: { kind: 'stall', direction: 'r2s', offset: R_PERMISSION } },
      sender: 'FAILED_BADLY',
      senderFailedIn: 'AWAIT_PERMISSION',
      senderKind: 'timeout',
      receiver: 'PERMISSION_SENT',
    },
  ],
};
type PlainStep = 'device-check' | 'banner' | 'xl-header' | 'stream' | 'ready' | 'rename' | 'go' | 'start' | 'report' | 'destroy-source' | 'permission';

const remus = remusStream(2);
const REMUS_CASES: Partial<Record<ProtocolStepId, readonly FaultCase[]>> = {
  'device-check': [
    { name: 'step-0 hook vetoes', setup: { sender: { deviceHooks: [refusingDevice] } }, sender: 'RESUMED', senderKind: 'refused', receiver: 'DESTROYED' },
  ],
  banner: [
    {
      name: 'wrong banner',
      setup: { fault: { kind: 'corrupt', direction: 'r2s', offset: 53 } },
      sender: 'RESUMED',
      senderFailedIn: 'PREAMBLE',
      senderKind: 'unexpected-data',
      receiver: 'DESTROYED',
    },
  ],
  'xl-header': [
    {
      name: 'corrupt xl header',
      setup: { fault: { kind: 'corrupt', direction: 's2r', offset: 40 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverKind: 'bad-stream',
    },
  ],
  stream: [
    {
      name: 'corrupt checkpoint byte',
      setup: { fault: { kind: 'corrupt', direction: 's2r', offset: 200 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverKind: 'bad-stream',
    },
    {
      name: 'stream stalls',
      setup: { fault: { kind: 'stall', direction: 's2r', offset: 300 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverKind: 'timeout',
    },
  ],
  failover: [
    {
      name: 'primary dies before the first checkpoint completes',
      setup: { fault: { kind: 'reset', direction: 's2r', offset: remus.checkpointEnds[0] - 8 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverKind: 'bad-stream',
    },
    // Dying inside the second checkpoint is a valid Remus end: fail over to the first one.
    {
      name: 'primary dies inside the second checkpoint',
      setup: { fault: { kind: 'end', direction: 's2r', offset: remus.checkpointEnds[0] + 8 } },
      sender: 'DONE_OK',
      receiver: 'DONE',
      fileKept: true,
    },
  ],
};

const postcopy = postcopyStream();
const POSTCOPY_CASES: Partial<Record<ProtocolStepId, readonly FaultCase[]>> = {
  'device-check': [
    { name: 'step-0 hook vetoes', setup: { sender: { deviceHooks: [refusingDevice] } }, sender: 'RESUMED', senderKind: 'refused', receiver: 'DESTROYED' },
  ],
  banner: [
    {
      name: 'banner stalls',
      setup: { fault: { kind: 'stall', direction: 'r2s', offset: 10 } },
      sender: 'RESUMED',
      senderKind: 'timeout',
      receiver: 'DESTROYED',
    },
  ],
  // Whether the sender had already written its whole stream (= transitioned) when the receiver gave up is a race.
  'xl-header': [
    {
      name: 'corrupt xl header',
      setup: { fault: { kind: 'corrupt', direction: 's2r', offset: 33 } },
      sender: ['RESUMED', 'POSTCOPY_INCONSISTENT'],
      receiver: 'DESTROYED',
      receiverKind: 'bad-stream',
    },
  ],
  stream: [
    {
      name: 'sender killed mid-stream',
      setup: { fault: { kind: 'reset', direction: 's2r', offset: 4000 } },
      sender: 'RESUMED',
      receiver: 'DESTROYED',
      receiverKind: 'peer-closed',
    },
  ],
  // Cut once POSTCOPY_TRANSITION_END went out: the guest may run at the destination, so the source is not resumed.
  'postcopy-transition': [
    {
      name: 'receiver cut inside the postcopy pages',
      setup: { fault: { kind: 'reset', direction: 's2r', offset: postcopy.length - 2000 } },
      sender: 'POSTCOPY_INCONSISTENT',
      senderFailedIn: 'POSTCOPY_TRANSITIONED',
      receiver: 'DESTROYED',
      receiverKind: 'peer-closed',
    },
  ],
  // After the transition the guest runs at the destination: the receiver keeps it, the source is left renamed.
  'back-channel': [
    {
      name: 'corrupt COMPLETE record',
      setup: { fault: { kind: 'corrupt', direction: 'r2s', offset: 54 } },
      sender: 'POSTCOPY_INCONSISTENT',
      senderFailedIn: 'AWAIT_SYNC',
      senderKind: 'unexpected-data',
      receiver: 'DONE',
      fileKept: true,
    },
  ],
  'postcopy-sync': [
    {
      name: 'wrong sync',
      setup: { fault: { kind: 'corrupt', direction: 'r2s', offset: 70 } },
      sender: 'POSTCOPY_INCONSISTENT',
      senderFailedIn: 'AWAIT_SYNC',
      senderKind: 'unexpected-data',
      receiver: 'DONE',
      fileKept: true,
    },
    {
      name: 'sync stalls',
      setup: { fault: { kind: 'stall', direction: 'r2s', offset: 62 } },
      sender: 'POSTCOPY_INCONSISTENT',
      senderFailedIn: 'AWAIT_SYNC',
      senderKind: 'timeout',
      receiver: 'DONE',
      fileKept: true,
    },
  ],
};

const CASES: Record<MigrationVariant, Partial<Record<ProtocolStepId, readonly FaultCase[]>>> = {
  plain: PLAIN_CASES,
  remus: REMUS_CASES,
  colo: REMUS_CASES,
  postcopy: POSTCOPY_CASES,
};

function pairFor(variant: MigrationVariant): Pick<PairOptions, 'bytes' | 'trackerFactory'> {
  if (variant === 'plain') return { bytes: plain, trackerFactory: () => new ExpectedBytesTracker(plain) };
  if (variant === 'postcopy') return { bytes: postcopy, trackerFactory: () => new ExpectedBytesTracker(postcopy) };
  return { bytes: remus.bytes, trackerFactory: () => new ExpectedBytesTracker(remus.bytes, remus.checkpointEnds) };
}

function checkOutcome(run: PairRun, fault: FaultCase): void {
  const senderStates: readonly SenderState[] = typeof fault.sender === 'string' ? [fault.sender] : fault.sender;
  expect(senderStates, `sender: ${run.sender.error?.message}`).toContain(run.sender.state);
  const receiverStates: readonly ReceiverState[] = typeof fault.receiver === 'string' ? [fault.receiver] : fault.receiver;
  expect(receiverStates, `receiver: ${run.receiver.error?.message}`).toContain(run.receiver.state);
  if (fault.senderFailedIn !== undefined) expect(run.sender.failedIn).toBe(fault.senderFailedIn);
  if (fault.senderKind !== undefined) expect(run.sender.error?.kind).toBe(fault.senderKind);
  if (fault.receiverFailedIn !== undefined) expect(run.receiver.failedIn).toBe(fault.receiverFailedIn);
  if (fault.receiverKind !== undefined) expect(run.receiver.error?.kind).toBe(fault.receiverKind);
  // Every failing side reports a reason, and the run never leaves a temporary file behind.
  expect(run.sender.ok).toBe(run.sender.state === 'DONE_OK');
  if (!run.sender.ok) expect(run.sender.error?.message.length).toBeGreaterThan(0);
  if (!run.receiver.ok) expect(run.receiver.error?.message.length).toBeGreaterThan(0);
  expect(run.leftovers).toEqual([]);
  if (fault.fileKept === true) expect(run.finalBytes).toBeDefined();
  else expect(run.finalBytes).toBeUndefined();
}

describe('every protocol step has fault cases', () => {
  for (const variant of MIGRATION_VARIANTS) {
    it(`${variant}: each step of protocolSteps('${variant}') has at least one fault case`, () => {
      const missing = protocolSteps(variant)
        .map((step) => step.id)
        .filter((id) => (CASES[variant][id]?.length ?? 0) === 0);
      expect(missing).toEqual([]);
    });
  }
});

describe.each(MIGRATION_VARIANTS.map((variant) => ({ variant })))('fault injection: $variant', ({ variant }) => {
  const cases = protocolSteps(variant).flatMap((step) => (CASES[variant][step.id] ?? []).map((fault) => ({ step: step.id, fault })));
  it.each(cases.map(({ step, fault }) => ({ label: `${step}: ${fault.name}`, fault })))('$label', async ({ fault }) => {
    const run = await runPair({
      variant,
      ...pairFor(variant),
      ...fault.setup,
      senderSeesReceiverVerdict: variant === 'remus' || variant === 'colo',
    });
    checkOutcome(run, fault);
  });
});

describe('step-0 veto', () => {
  it('sends nothing at all, not even after the banner arrived', async () => {
    const run = await runPair({ variant: 'plain', ...pairFor('plain'), sender: { deviceHooks: [{ deviceType: 'ok' }, refusingDevice] } });
    expect(run.link.forwarded.s2r).toBe(0);
    expect(run.sender.bytesSent).toBe(0);
    expect(run.sender.error?.cause).toBeInstanceOf(DeviceRefusedError);
    expect(run.sender.error?.message).toBe("Device of type 'vtpm' refuses migration.");
  });

  it('runs steps 1–3 in order around suspend when no device refuses', async () => {
    const calls: string[] = [];
    const run = await runPair({
      variant: 'plain',
      ...pairFor('plain'),
      sender: {
        domain: { name: 'guest', suspend: () => void calls.push('suspend') },
        deviceHooks: [
          {
            deviceType: 'vtpm',
            canMigrate: () => {
              calls.push('0');
              return true;
            },
            migrate: (step) => void calls.push(String(step)),
          },
        ],
      },
    });
    expect(run.sender.ok).toBe(true);
    expect(calls).toEqual(['0', '1', 'suspend', '2', '3']);
  });
});
