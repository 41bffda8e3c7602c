import { z } from 'zod';
import { ConfigError } from './config-error';

/**
 * Environment variables are read through zod schemas: each field is one variable, and the
 * first problem found is reported as a ConfigError naming that variable. Values are strings in
 * the environment; the helpers below parse them and say what they expected.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** An integer in [min, max], with a default when the variable is unset or empty. */
export function integerVar(options: { default?: number; min?: number; max?: number }) {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
  const base = z
    .string()
    .trim()
    .regex(/^-?\d+$/, { message: 'must be a whole number' })
    .transform((s) => Number(s))
    .refine((n) => n >= min && n <= max, { message: `must be between ${min} and ${max}` });
  return options.default === undefined
    ? base
    : z.preprocess((v) => (v === undefined || v === '' ? String(options.default) : v), base);
}

/** A TCP port, 0–65535 (0 lets the kernel choose, which tests use). */
export function portVar(defaultPort: number) {
  return integerVar({ default: defaultPort, min: 0, max: 65535 });
}

/** A `postgres://` or `postgresql://` URL. */
export function postgresUrlVar() {
  return z
    .string({ required_error: 'is required (e.g. postgres://postgres@127.0.0.1:5432/cryptomesh)' })
    .trim()
    .min(1, { message: 'is required (e.g. postgres://postgres@127.0.0.1:5432/cryptomesh)' })
    .refine((s) => /^postgres(ql)?:\/\/[^/]+\/[^/?#]+/.test(s) && URL.canParse(s), {
      message: 'must be a URL like postgres://user@host:5432/database',
    });
}

/** A file path, or undefined when the variable is unset or empty. The file is read by its user. */
export function optionalPathVar() {
  return z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.string().trim().min(1).optional(),
  );
}

/** A comma-separated list of `host:port` Kafka bootstrap brokers. */
export function kafkaBrokersVar() {
  return z
    .string({ required_error: 'is required: comma-separated host:port list, e.g. 127.0.0.1:9092' })
    .trim()
    .min(1, { message: 'is required: comma-separated host:port list, e.g. 127.0.0.1:9092' })
    .transform((s) => s.split(',').map((b) => b.trim()))
    .refine((list) => list.every((b) => /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(b)), {
      message: 'must be a comma-separated list of host:port, e.g. 127.0.0.1:9092',
    });
}

export function enumVar<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z.preprocess(
    (v) => (v === undefined || v === '' ? defaultValue : v),
    z.enum(values, { errorMap: () => ({ message: `must be one of ${values.join(', ')}` }) }),
  );
}

/**
 * Validates `env` against `shape`. Returns the parsed configuration or throws a ConfigError for
 * the first variable (in declaration order) that is missing or wrong, quoting what was seen.
 */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: Env): z.infer<z.ZodObject<S>> {
  const schema = z.object(shape);
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const order = Object.keys(shape);
  const issues = [...result.error.issues].sort(
    (a, b) => order.indexOf(String(a.path[0])) - order.indexOf(String(b.path[0])),
  );
  const issue = issues[0]!;
  const variable = String(issue.path[0] ?? '(environment)');
  const raw = env[variable];
  const seen =
    raw === undefined ? '' : ` (got ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw)})`;
  throw new ConfigError(variable, `${issue.message}${seen}`);
}
