import type { MigrationVariant } from './migration-variant.js';
import type { ReceiverState } from './receiver-states.js';
import type { SenderState } from './sender-states.js';

/**
 * The protocol steps of spec/PROTOCOLS.md §1.3–1.5 as data, with the state each
 * side is in while the step runs. Tests enumerate these so a new step cannot
 * be added without a fault-injection case for it.
 */
export type StepDirection = 'receiver→sender' | 'sender→receiver' | 'sender' | 'receiver';

export interface ProtocolStep {
  readonly id: ProtocolStepId;
  /** Step number as in the spec tables ("0" = device check of §4). */
  readonly number: string;
  readonly direction: StepDirection;
  readonly content: string;
  readonly senderState?: SenderState;
  readonly receiverState?: ReceiverState;
}

export type ProtocolStepId =
  | 'device-check'
  | 'banner'
  | 'xl-header'
  | 'stream'
  | 'ready'
  | 'rename'
  | 'go'
  | 'start'
  | 'report'
  | 'destroy-source'
  | 'permission'
  | 'failover'
  | 'postcopy-transition'
  | 'back-channel'
  | 'postcopy-sync';

const DEVICE_CHECK: ProtocolStep = {
  id: 'device-check',
  number: '0',
  direction: 'sender',
  content: 'step-0 device hooks may veto; nothing has been sent yet',
  senderState: 'PREAMBLE',
};
const BANNER: ProtocolStep = {
  id: 'banner',
  number: '1',
  direction: 'receiver→sender',
  content: 'banner (54 bytes, no NUL)',
  senderState: 'PREAMBLE',
  receiverState: 'BANNER_SENT',
};
const XL_HEADER: ProtocolStep = {
  id: 'xl-header',
  number: '2',
  direction: 'sender→receiver',
  content: 'xl save-file header + optional data',
  senderState: 'STREAMING',
  receiverState: 'RECEIVING',
};
const STREAM: ProtocolStep = {
  id: 'stream',
  number: '3',
  direction: 'sender→receiver',
  content: 'libxl v2 stream up to and including its END',
  senderState: 'STREAMING',
  receiverState: 'RECEIVING',
};

const PLAIN_STEPS: readonly ProtocolStep[] = [
  DEVICE_CHECK,
  BANNER,
  XL_HEADER,
  STREAM,
  { id: 'ready', number: '4', direction: 'receiver→sender', content: 'ready (34 bytes)', senderState: 'AWAIT_READY', receiverState: 'READY_SENT' },
  { id: 'rename', number: '5', direction: 'sender', content: 'source renamed NAME--migratedaway', senderState: 'RENAMED' },
  { id: 'go', number: '6', direction: 'sender→receiver', content: 'go (44 bytes) — point of no return', senderState: 'GO_SENT', receiverState: 'AWAIT_GO' },
  { id: 'start', number: '7', direction: 'receiver', content: 'receiver starts its copy (renames the file to its final name)', receiverState: 'STARTING' },
  {
    id: 'report',
    number: '8',
    direction: 'receiver→sender',
    content: 'report (39 bytes) + status byte',
    senderState: 'AWAIT_REPORT',
    receiverState: 'REPORT_SENT',
  },
  { id: 'destroy-source', number: '9a', direction: 'sender', content: 'status 0: sender destroys the source', senderState: 'AWAIT_REPORT' },
  {
    id: 'permission',
    number: '9b',
    direction: 'receiver→sender',
    content: 'status ≠ 0: permission (44 bytes), sender resumes',
    senderState: 'AWAIT_PERMISSION',
    receiverState: 'PERMISSION_SENT',
  },
];

const CHECKPOINTED_STEPS: readonly ProtocolStep[] = [
  DEVICE_CHECK,
  BANNER,
  XL_HEADER,
  { ...STREAM, content: 'checkpointed stream (never ends with END)' },
  {
    id: 'failover',
    number: '4r',
    direction: 'sender→receiver',
    content: 'EOF after a complete checkpoint = failover',
    senderState: 'AWAIT_FAILOVER',
    receiverState: 'RECEIVING',
  },
];

const POSTCOPY_STEPS: readonly ProtocolStep[] = [
  DEVICE_CHECK,
  BANNER,
  XL_HEADER,
  STREAM,
  {
    id: 'postcopy-transition',
    number: "3''",
    direction: 'sender→receiver',
    content: 'POSTCOPY_TRANSITION_END handed out: the guest may run at the destination; the source is never resumed after it',
    senderState: 'POSTCOPY_TRANSITIONED',
    receiverState: 'RECEIVING',
  },
  {
    id: 'back-channel',
    number: "3'",
    direction: 'receiver→sender',
    content: 'POSTCOPY_FAULT* POSTCOPY_COMPLETE records',
    senderState: 'AWAIT_SYNC',
    receiverState: 'SYNC_SENT',
  },
  {
    id: 'postcopy-sync',
    number: "4'",
    direction: 'receiver→sender',
    content: 'postcopy sync (42 bytes)',
    senderState: 'AWAIT_SYNC',
    receiverState: 'SYNC_SENT',
  },
];

export function protocolSteps(variant: MigrationVariant): readonly ProtocolStep[] {
  if (variant === 'plain') return PLAIN_STEPS;
  if (variant === 'postcopy') return POSTCOPY_STEPS;
  return CHECKPOINTED_STEPS;
}
