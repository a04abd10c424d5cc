/** Public surface of the migration session layer. */
export * from './fixed-messages.js';
export { readFixedMessage, writeFixedMessage } from './fixed-message-io.js';
export { ProtocolError, type ProtocolFailureKind, type ProtocolErrorDetails } from './protocol-error.js';
export { InputChannel, type ReadContext } from './input-channel.js';
export { OutputChannel, type WriteContext } from './output-channel.js';
export { MIGRATION_VARIANTS, isCheckpointed, type MigrationVariant } from './migration-variant.js';
export { StateMachine, IllegalTransitionError, type StateMachineDefinition } from './state-machine.js';
export { SENDER_STATES, senderDefinition, senderFailureState, type SenderState } from './sender-states.js';
export { RECEIVER_STATES, receiverDefinition, type ReceiverState } from './receiver-states.js';
export { protocolSteps, type ProtocolStep, type ProtocolStepId, type StepDirection } from './protocol-steps.js';
export { DEFAULT_TIMEOUTS, resolveTimeouts, type SessionTimeouts } from './timeouts.js';
export { socketTransport, childTransport, stdioTransport, type Transport } from './transport.js';
export type { StreamTracker, StreamTrackerFactory } from './stream-tracker.js';
export { pushDecoderTrackerFactory, trackerFromPushDecoder, readerOptionsFor } from './push-decoder-tracker.js';
export { CaptureFile } from './capture-file.js';
export { captureStream, type CaptureRequest, type CaptureResult } from './stream-capture.js';
export {
  checkDevicesMigratable,
  runDeviceStep,
  DeviceRefusedError,
  type DeviceMigrationHook,
  type DeviceHookContext,
  type DeviceHookStep,
} from './device-hooks.js';
export { detachedDomain, type SourceDomain } from './source-domain.js';
export { XlMigrationSender, type SenderOptions, type SenderResult } from './xl-sender.js';
export { XlMigrationReceiver, type ReceiverOptions, type ReceiverResult } from './xl-receiver.js';
export * from './cookies.js';
export * from './job-phase.js';
export { MigrationJobStore, MigrationJob, JobBusyError, JobPhaseError, type MigrationJobRecord } from './job-lock.js';
export * from './instance-migration-state.js';
export { V3Source, V3Destination, migrateV3, type V3State, type V3Result, type V3SourceOptions, type V3DestinationOptions } from './migration-v3.js';
export { listenOnce, connectUri, type OneShotListener } from './tcp-endpoint.js';
export { XlMigrationRelay, type RelayOptions, type RelayResult, type RelayState, type RelayFault } from './relay.js';
export { PostcopyTransitionWatch } from './postcopy-transition.js';
