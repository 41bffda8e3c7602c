import { createRootLogger, currentRootLogger, RequestLogger } from './logger-options';

/** A root logger whose lines are kept, parsed. */
function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const root = createRootLogger('test', level, {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { root, lines };
}

describe('RequestLogger (observability.md "Request ids")', () => {
  it('writes every line of a request with its requestId, the service and the level', () => {
    const { root, lines } = capture('info');
    const log = new RequestLogger(root, 'req-1');
    log.info({ msg: 'one' });
    log.warn({ n: 2 }, 'two');
    log.child({ context: 'x' }).error('three');
    expect(lines).toMatchObject([
      { requestId: 'req-1', service: 'test', level: 'info', msg: 'one' },
      { requestId: 'req-1', level: 'warn', msg: 'two', n: 2 },
      { requestId: 'req-1', level: 'error', msg: 'three', context: 'x' },
    ]);
    expect(currentRootLogger()).toBe(root);
  });

  it('makes no child logger for a request that writes nothing at an enabled level', () => {
    const { root, lines } = capture('warn');
    const child = jest.spyOn(root, 'child');
    const log = new RequestLogger(root, 'req-2');
    log.info('dropped');
    log.debug({ x: 1 }, 'dropped');
    expect(child).not.toHaveBeenCalled();
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.level).toBe('warn');
    log.error('kept');
    log.warn('kept too');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l['requestId'], l['msg']])).toEqual([
      ['req-2', 'kept'],
      ['req-2', 'kept too'],
    ]);
  });
});
