import type { IncomingMessage } from 'node:http';
import {
  createRootLogger,
  currentRootLogger,
  loggerOptions,
  requestLines,
  RequestLogger,
} from './logger-options';

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

describe('requestLines (a service without a request context)', () => {
  it("writes a request's lines with its id and the context; without its logger, to the fallback", () => {
    const { root, lines } = capture('info');
    const raw = { log: new RequestLogger(root, 'req-3') } as unknown as IncomingMessage;
    const fallback = { error: jest.fn(), warn: jest.fn(), log: jest.fn() };
    const log = requestLines(raw, 'query', fallback);
    log.error({ msg: 'query failed', url: '/x' });
    log.warn({ msg: 'odd' });
    log.log({ msg: 'fine' });
    expect(lines).toMatchObject([
      { requestId: 'req-3', context: 'query', level: 'error', msg: 'query failed', url: '/x' },
      { requestId: 'req-3', context: 'query', level: 'warn', msg: 'odd' },
      { requestId: 'req-3', context: 'query', level: 'info', msg: 'fine' },
    ]);
    expect(fallback.error).not.toHaveBeenCalled();
    requestLines({} as IncomingMessage, 'query', fallback).error({ msg: 'no request logger' });
    expect(fallback.error).toHaveBeenCalledWith({ msg: 'no request logger' });
  });

  it('binds the request context on every route unless the service opts out', () => {
    const { root } = capture('info');
    expect(loggerOptions(root)).not.toHaveProperty('forRoutes');
    expect(loggerOptions(root, false)).toMatchObject({ forRoutes: [] });
  });
});
