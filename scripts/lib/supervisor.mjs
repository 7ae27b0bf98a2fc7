// `npm start`'s supervision of the five services (plain Node, no dependencies).
//
// A service that dies (a crash, SIGKILL, OOM) is started again after a backoff; the others keep running.
// A service that keeps dying (more than `maxRestarts` restarts within `windowMs`) stops everything, with a
// message that says which and why. stop() (Ctrl-C) stops every service: SIGTERM, then SIGKILL after
// `stopTimeoutMs`.

export const RESTART_POLICY = {
  /** Wait before the first restart; doubled for each further restart within the window. */
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  /** At most this many restarts of one service within the window; the next death stops everything. */
  maxRestarts: 5,
  windowMs: 10 * 60_000,
};

/** "exit code 1" or "signal SIGKILL": how a child process ended. */
export function describeExit(code, signal) {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/**
 * What to do when a service has died at `now`, given the times of its earlier restarts: restart it after
 * `delayMs`, or give up. Pure, so the policy is easy to read and to test.
 */
export function restartDecision(previousRestarts, now, policy = RESTART_POLICY) {
  const recent = previousRestarts.filter((at) => now - at < policy.windowMs);
  if (recent.length >= policy.maxRestarts) return { restart: false, recent: recent.length };
  const delayMs = Math.min(policy.initialDelayMs * 2 ** recent.length, policy.maxDelayMs);
  return { restart: true, delayMs, attempt: recent.length + 1, recent: recent.length };
}

/**
 * Starts every service with `spawnService(name)` (which returns a ChildProcess) and supervises them.
 * `exit(code)` is called once every child has stopped after stop() or a give-up.
 */
export function supervise({
  services,
  spawnService,
  log,
  exit,
  policy = RESTART_POLICY,
  stopTimeoutMs = 15_000,
}) {
  const children = new Map();
  const restarts = new Map(services.map((name) => [name, []]));
  const pending = new Map();
  let stopping = false;
  let exitCode = 0;

  const start = (name) => {
    const child = spawnService(name);
    children.set(name, child);
    child.on('exit', (code, signal) => onExit(name, child, code, signal));
    return child;
  };

  const onExit = (name, child, code, signal) => {
    if (children.get(name) === child) children.delete(name);
    if (stopping) {
      if (children.size === 0) exit(exitCode);
      return;
    }
    const now = Date.now();
    const decision = restartDecision(restarts.get(name), now, policy);
    if (!decision.restart) {
      log(
        `${name} died (${describeExit(code, signal)}) again: restarted ${decision.recent} times within ` +
          `${Math.round(policy.windowMs / 60_000)} min, it keeps dying. Stopping everything; see ${name}'s ` +
          'log lines above for the cause.',
      );
      stop(1);
      return;
    }
    restarts.get(name).push(now);
    log(
      `${name} died (${describeExit(code, signal)}); the other services keep running. Restarting ${name} in ` +
        `${decision.delayMs} ms (restart ${decision.attempt} of at most ${policy.maxRestarts} within ` +
        `${Math.round(policy.windowMs / 60_000)} min).`,
    );
    const timer = setTimeout(() => {
      pending.delete(name);
      if (stopping) return;
      const restarted = start(name);
      log(`${name} restarted (pid ${restarted.pid}).`);
    }, decision.delayMs);
    pending.set(name, timer);
  };

  const stop = (code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of pending.values()) clearTimeout(timer);
    pending.clear();
    log(`stopping the ${children.size} running services`);
    for (const child of children.values()) child.kill('SIGTERM');
    setTimeout(() => {
      for (const [name, child] of children) {
        log(`${name} did not stop within ${stopTimeoutMs} ms; killing it`);
        child.kill('SIGKILL');
      }
    }, stopTimeoutMs).unref();
    if (children.size === 0) exit(code);
  };

  for (const name of services) start(name);
  return { stop, children, isStopping: () => stopping };
}
