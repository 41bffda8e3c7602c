import type { DataSource } from 'typeorm';
import { readLogBacklog, type LogBacklog } from './log-backlog';
import { safeInteger, type SqlQuery } from './log-sql';
import { dataSourceQuery } from './typeorm-published-log.store';

/** Entries sealed in one minute of one log (`self` or a peer id), by the seal's own time. */
export interface ThroughputRow {
  readonly log: string;
  /** Unix milliseconds of the minute's start. */
  readonly minuteMs: number;
  readonly entries: number;
}

/** Replication lag of one peer's parts mirrored in one minute: mirrored time − the seal's time. */
export interface LagRow {
  readonly peer: string;
  readonly minuteMs: number;
  readonly meanSeconds: number;
  readonly maxSeconds: number;
}

/** This portal's newest seal. */
export interface OwnHeadRecord {
  readonly part: number;
  readonly size: number;
  readonly timeMs: number;
}

/**
 * What the status page charts (docs/design/status-page.md "History"), read from the tables, not from
 * process memory: every query replica answers the same and a restart loses nothing. Minutes are
 * whole UTC minutes; a minute without a seal has no row (the caller fills zeros).
 */
export class TypeOrmStatusHistory {
  private readonly query: SqlQuery;

  constructor(private readonly dataSource: DataSource) {
    this.query = dataSourceQuery(dataSource);
  }

  /** This portal's log queue now (what the gateway's pushback judges). */
  backlog(): Promise<LogBacklog> {
    return readLogBacklog(this.dataSource.manager);
  }

  /** Entries per minute of this portal's log (`self`) and of every mirror, since `sinceMs`. */
  async throughput(sinceMs: number): Promise<ThroughputRow[]> {
    const rows = await this.query<{ log: string; minute_ms: string; entries: string }>(
      `SELECT log, (floor(time_ms / 60000) * 60000)::bigint AS minute_ms, sum(size - first)::bigint AS entries
         FROM (SELECT 'self'::text AS log, time_ms, size, first FROM log_seals WHERE time_ms >= $1
               UNION ALL
               SELECT peer, time_ms, size, first FROM mirror_seals WHERE time_ms >= $1) AS seals
        GROUP BY log, minute_ms
        ORDER BY log, minute_ms`,
      [sinceMs],
    );
    return rows.map((r) => ({
      log: r.log,
      minuteMs: safeInteger(r.minute_ms, 'minute'),
      entries: safeInteger(r.entries, 'entries'),
    }));
  }

  /** Lag per peer and minute of mirroring, since `sinceMs` (by the time the part was mirrored). */
  async lag(sinceMs: number): Promise<LagRow[]> {
    const rows = await this.query<{ peer: string; minute_ms: string; mean_s: number; max_s: number }>(
      `SELECT peer,
              (floor(extract(epoch FROM mirrored_at) / 60) * 60000)::bigint AS minute_ms,
              avg(greatest(0, extract(epoch FROM mirrored_at) * 1000 - time_ms)) / 1000 AS mean_s,
              max(greatest(0, extract(epoch FROM mirrored_at) * 1000 - time_ms)) / 1000 AS max_s
         FROM mirror_seals
        WHERE mirrored_at >= to_timestamp($1::double precision / 1000)
        GROUP BY peer, minute_ms
        ORDER BY peer, minute_ms`,
      [sinceMs],
    );
    return rows.map((r) => ({
      peer: r.peer,
      minuteMs: safeInteger(r.minute_ms, 'minute'),
      meanSeconds: Number(r.mean_s),
      maxSeconds: Number(r.max_s),
    }));
  }

  /** This portal's newest seal, or undefined before the first. */
  async ownHead(): Promise<OwnHeadRecord | undefined> {
    const [row] = await this.query<{ part: string; size: string; time_ms: string }>(
      `SELECT part, size, time_ms FROM log_seals ORDER BY part DESC LIMIT 1`,
    );
    if (row === undefined) return undefined;
    return {
      part: safeInteger(row.part, 'part'),
      size: safeInteger(row.size, 'size'),
      timeMs: safeInteger(row.time_ms, 'time_ms'),
    };
  }
}
