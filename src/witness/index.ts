/**
 * writ as a C2SP tlog-witness (https://c2sp.org/tlog-witness): it cosigns the checkpoints of the
 * logs it follows after checking each is consistent with the last one it cosigned, so that a log
 * cannot show two views of itself or roll back without a witness refusing.
 */
export { MAX_PROOF_LINES, parseAddCheckpoint, type AddCheckpointRequest } from './request.js';
export { TLOG_SIZE_CONTENT_TYPE, WITNESS_BODY_LIMIT, buildWitnessServer, type WitnessServerOptions } from './server.js';
export { WitnessState, type CosignedHead } from './state.js';
export { Witness, openWitness, type AddCheckpointAnswer, type WitnessLogConfig, type WitnessOptions } from './witness.js';
