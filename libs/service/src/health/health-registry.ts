import { Injectable } from '@nestjs/common';

/**
 * A readiness check. `check` MUST resolve when the dependency is usable and reject (with a short
 * reason) when it is not; it SHOULD answer within a second, and is cut off after CHECK_TIMEOUT_MS.
 */
export type HealthCheck = () => Promise<void>;

export interface CheckResult {
  readonly status: 'up' | 'down';
  readonly latencyMs: number;
  readonly error?: string;
}

const CHECK_TIMEOUT_MS = 2_000;

/**
 * The named readiness checks of one service. Modules register theirs at initialisation (the
 * persistence module registers `database`, the Kafka transport `kafka`). Owned by the Nest
 * container; checks run concurrently on each probe.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private draining = false;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  /** From the start of a graceful shutdown on, the service reports not ready. */
  markDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async runAll(): Promise<Record<string, CheckResult>> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await runOne(check)] as const),
    );
    return Object.fromEntries(entries);
  }
}

async function runOne(check: HealthCheck): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      status: 'down',
      latencyMs: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
