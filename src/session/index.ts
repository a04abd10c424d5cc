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
export {
  MigrationJobStore,
  MigrationJob,
  JobBusyError,
  JobPhaseError,
  isOwnerRunning,
  type MigrationJobRecord,
  type MigrationJobStoreOptions,
} from './job-lock.js';
export { diagnoseJob, type JobDiagnosis, type RecoveryAction } from './job-recovery.js';
export { InstanceStateFiles } from './instance-state-files.js';
export { commandDeviceHook, parseDeviceHookSpec, type CommandHookOptions } from './device-hook-commands.js';
export {
  runMigration,
  recoverStaleJobs,
  incomingStateDir,
  JobNeedsAttentionError,
  type MigrationRunOptions,
  type MigrationRunResult,
  type MigrationDestination,
} from './migration-job-run.js';
export { XlV3Peer, type XlV3PeerOptions, type XlPeerLink } from './xl-v3-peer.js';
export { ColoSecondary, type ColoBackChannelCounts, type DirtyPfnSource } from './colo-secondary.js';
export { ColoBackChannelMonitor, type ColoBackChannelSummary } from './colo-back-channel-monitor.js';
export * from './instance-migration-state.js';
export {
  V3Source,
  V3Destination,
  migrateV3,
  UncertainOutcomeError,
  type V3State,
  type V3SourceEnd,
  type V3Result,
  type V3SourceOptions,
  type V3DestinationOptions,
  type V3SourceSide,
  type V3DestinationSide,
  type V3Transfer,
  type V3TransferContext,
} from './migration-v3.js';
export { listenOnce, connectUri, type OneShotListener } from './tcp-endpoint.js';
export { XlMigrationRelay, type RelayOptions, type RelayResult, type RelayState, type RelayFault } from './relay.js';
export { PostcopyTransitionWatch } from './postcopy-transition.js';
