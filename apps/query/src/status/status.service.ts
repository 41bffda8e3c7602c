import { Inject, Injectable } from '@nestjs/common';
import { backlogPushback, type LogBacklog, type LogBacklogLimits } from '@cryptomesh/persistence';
import type { Now } from '../federation.service';
import { LOG_BACKLOG_LIMITS, QUERY_NOW, STATUS_HISTORY_READER } from '../query-tokens';
import {
  alignHistory,
  windowStart,
  type LagSample,
  type StatusHistory,
  type ThroughputSample,
} from './status-history';

/** What the status page reads beyond `/federation` (port; TypeOrmStatusHistory is the adapter). */
export interface StatusHistoryReader {
  throughput(sinceMs: number): Promise<ThroughputSample[]>;
  lag(sinceMs: number): Promise<LagSample[]>;
  ownHead(): Promise<{ part: number; size: number; timeMs: number } | undefined>;
  backlog(): Promise<LogBacklog>;
}

/** `GET /status/history`: the chart's series and this portal's own head (status-page.md). */
export interface StatusHistoryAnswer extends StatusHistory {
  readonly now: number;
  readonly self: {
    readonly head: { part: number; size: number; timeMs: number } | null;
    /** The log queue now. */
    readonly backlog: LogBacklog;
    /** Why the gateway refuses changes now (its pushback), or null while it accepts them. */
    readonly pushback: string | null;
  };
}

@Injectable()
export class StatusService {
  constructor(
    @Inject(STATUS_HISTORY_READER) private readonly reader: StatusHistoryReader,
    @Inject(QUERY_NOW) private readonly now: Now,
    @Inject(LOG_BACKLOG_LIMITS) private readonly limits: LogBacklogLimits,
  ) {}

  /** The last `minutes` minutes (1 – MAX_HISTORY_MINUTES, checked by the caller). */
  async history(minutes: number): Promise<StatusHistoryAnswer> {
    const now = this.now();
    const since = windowStart(now, minutes);
    const [throughput, lag, head, backlog] = await Promise.all([
      this.reader.throughput(since),
      this.reader.lag(since),
      this.reader.ownHead(),
      this.reader.backlog(),
    ]);
    const pushback = backlogPushback(backlog, this.limits) ?? null;
    return {
      ...alignHistory(now, minutes, throughput, lag),
      now,
      self: { head: head ?? null, backlog, pushback },
    };
  }
}
