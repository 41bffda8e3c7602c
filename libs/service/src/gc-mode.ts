/** A node flag that makes V8 collect garbage on the main thread: `--[no-]single-threaded[-gc]`. */
const SINGLE_THREADED = /^--(no-?)?single[-_]threaded([-_]gc)?$/;

/**
 * How this process collects garbage: `single-threaded` when node was started with
 * `--single-threaded-gc` or `--single-threaded` (the replication service, docs/configuration.md
 * "Node flags"), else V8's parallel and concurrent collector. Only node's command line sets it (not
 * NODE_OPTIONS, not the environment), so a service reports it when it listens. As with V8, the last
 * mention of a flag wins, and `--single-threaded` implies the collector's.
 */
export function gcMode(execArgv: readonly string[] = process.execArgv): 'single-threaded' | 'parallel' {
  let collector: boolean | undefined;
  let everything: boolean | undefined;
  for (const arg of execArgv) {
    const flag = SINGLE_THREADED.exec(arg);
    if (flag === null) continue;
    if (flag[2] === undefined) everything = flag[1] === undefined;
    else collector = flag[1] === undefined;
  }
  return everything === true || collector === true ? 'single-threaded' : 'parallel';
}
