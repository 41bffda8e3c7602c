/** Injection tokens of the query service's ports (adapters are wired in query.module.ts). */

/** `PublishedLog`: this portal's own log. */
export const PUBLISHED_LOG = Symbol('PUBLISHED_LOG');
/** `MirrorLogs`: a peer's mirrored log by peer id. */
export const MIRROR_LOGS = Symbol('MIRROR_LOGS');
/** `FederationReader`: the roster, cosignatures, mirror heads and findings. */
export const FEDERATION_READER = Symbol('FEDERATION_READER');
/** `Now`: wall-clock unix milliseconds. */
export const QUERY_NOW = Symbol('QUERY_NOW');
/** `StatusHistoryReader`: the status page's history (seals and mirrored parts per minute). */
export const STATUS_HISTORY_READER = Symbol('STATUS_HISTORY_READER');
/** `LogBacklogLimits`: the gateway's pushback bounds, for the status page to say when they are crossed. */
export const LOG_BACKLOG_LIMITS = Symbol('LOG_BACKLOG_LIMITS');
/** `string | undefined`: this portal's id as configured (PORTAL_ID), before replication wrote its row. */
export const QUERY_PORTAL_ID = Symbol('QUERY_PORTAL_ID');
/** `AccountDirectory`: the own accounts and the mirrors' account states (GET /accounts/{address}). */
export const ACCOUNT_DIRECTORY = Symbol('ACCOUNT_DIRECTORY');
/** `LogHeads`: the latest checkpoints, cosignatures and roster in memory (query.md "Log heads"). */
export const LOG_HEADS = Symbol('LOG_HEADS');
/** `ProofTrees`: each served log's tree of stored nodes in memory (query.md "Proof tree"). */
export const PROOF_TREES = Symbol('PROOF_TREES');
