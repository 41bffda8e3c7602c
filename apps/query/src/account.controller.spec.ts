import type { FastifyRequest } from 'fastify';
import { createRootLogger, RequestLogger } from '../../../libs/service/src/logging/logger-options';
import { AccountController } from './account.controller';
import type { AccountAnswer, AccountService } from './account.service';

describe('AccountController', () => {
  it("gives the lookup the request's own lines: what it logs carries the request id (no request context here)", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const root = createRootLogger('query', 'info', {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    });
    const service = {
      locate: (address: string, log: { error(line: object): void }) => {
        log.error({ msg: 'a stored mirror account state does not decode', peer: 'beta' });
        return Promise.resolve({ Portal: 'alpha', address } as unknown as AccountAnswer);
      },
    } as unknown as AccountService;
    const request = { raw: { log: new RequestLogger(root, 'acct-1') } } as unknown as FastifyRequest;
    await new AccountController(service).account('alice@example.com', request);
    expect(lines).toEqual([
      expect.objectContaining({
        requestId: 'acct-1',
        context: 'query',
        level: 'error',
        msg: 'a stored mirror account state does not decode',
      }),
    ]);
  });
});
