import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's inlining of JS→Wasm calls into optimised JavaScript (`--turbo-inline-js-wasm-calls`,
 * on by default in Node 20). With it on, a lazy deoptimisation of a function that is waiting on a
 * Cedar call (wasm-bindgen calls back into JavaScript during it, which can invalidate the caller's
 * optimised code) aborts the whole process with V8's "Fatal error … unreachable code" in
 * Deoptimizer::DoComputeBuiltinContinuation. bench/policy.ts reproduced it on Node 20.20.2 every
 * time (two policy runs in one process); with the flag off it does not happen, and Cedar decisions
 * cost the same (~100 µs, dominated by the JSON crossing, not the call).
 *
 * It must run before any function calling Cedar is optimised: src/policy/cedar.ts imports this
 * module first, before it imports the Cedar module.
 */
setFlagsFromString('--no-turbo-inline-js-wasm-calls');
