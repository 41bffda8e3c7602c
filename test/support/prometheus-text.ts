/**
 * A small reader of the Prometheus text exposition format (version 0.0.4), for tests that assert
 * on `/metrics`: prom-client writes the format but has no parser. It reads sample lines only
 * (`name{label="value",…} value`), with the format's escapes in label values; comments are skipped.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;

/** Every sample of an exposition; throws on a line that is neither a sample, a comment nor blank. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const label = LABEL.exec(body);
      if (!label || LABEL.lastIndex === start) throw new Error(`bad labels in: ${line}`);
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** One scrape of a service's `/metrics`. */
export class Scrape {
  constructor(readonly samples: readonly Sample[]) {}

  /** The samples named `name` whose labels include `labels`. */
  find(name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** The sum of the matching samples (0 when there is none: a labelled counter not yet incremented). */
  sum(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.find(name, labels).reduce((total, s) => total + s.value, 0);
  }
}

/** GETs `<serviceUrl>/metrics` and parses it; throws unless it answers 200 in the Prometheus text format. */
export async function scrape(serviceUrl: string): Promise<Scrape> {
  const res = await fetch(`${serviceUrl}/metrics`);
  const text = await res.text();
  if (res.status !== 200 || !(res.headers.get('content-type') ?? '').startsWith('text/plain'))
    throw new Error(`${serviceUrl}/metrics answered ${res.status} ${res.headers.get('content-type')}`);
  return new Scrape(parsePrometheusText(text));
}
