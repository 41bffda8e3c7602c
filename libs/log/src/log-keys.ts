import type { Ed25519 } from './ed25519';
import { LogError } from './log-error';
import { openSeal, type Seal } from './seal';
import { KEY_TYPE_ED25519, parseVerifierKey, type VerifierKey } from './verifier-key';

/** The log keys of a `LogVerifierState` once the log's key changed (see there). */
export interface LogKeysState {
  readonly current: string;
  readonly note?: string;
  readonly retired: readonly string[];
}

/**
 * The log keys a verifier follows: the key that signs the next seal and every key a transition
 * retired (docs/design/log-format.md "Key transitions"). Mutable; owned by one LogVerifier.
 */
export class LogKeys {
  private retired: VerifierKey[] = [];

  constructor(private key: VerifierKey) {}

  get current(): VerifierKey {
    return this.key;
  }

  /** Whether `key` is the current key or one a transition retired. */
  wasUsed(key: VerifierKey): boolean {
    return key.text === this.key.text || this.retired.some((k) => k.text === key.text);
  }

  /** The transition part was sealed: `next` signs from now on, the current key is retired. */
  advance(next: VerifierKey): void {
    this.retired.push(this.key);
    this.key = next;
  }

  /**
   * Opens a seal with the current key. A seal that opens only with a retired key is a
   * `verify.retired-key` violation — the portal's own signature proves it (a transition retired
   * that key); any other failure is the current key's.
   */
  open(note: string, ed25519: Ed25519, origin: string): Seal {
    try {
      return openSeal(note, this.key, ed25519, origin).seal;
    } catch (error) {
      for (const key of this.retired) {
        let seal: Seal;
        try {
          seal = openSeal(note, key, ed25519, origin).seal;
        } catch {
          continue;
        }
        throw new LogError('verify.retired-key', 'the seal is signed by a log key a key transition retired', {
          expected: this.key.text,
          seen: key.text,
          part: seal.part.index,
        });
      }
      throw error;
    }
  }

  /** The state to save with a head whose note `noteKey` signed; undefined while no key changed. */
  state(noteKey: VerifierKey): LogKeysState | undefined {
    if (this.retired.length === 0) return undefined;
    return {
      current: this.key.text,
      ...(noteKey.text === this.key.text ? {} : { note: noteKey.text }),
      retired: this.retired.map((k) => k.text),
    };
  }

  /** Adopts saved keys; resolves to the key that signed the saved note. Throws `verify.state`. */
  restore(state: LogKeysState | undefined): VerifierKey {
    if (state === undefined) return this.key;
    // Persisted JSON: its shape is checked, never trusted (#19 item 4 review).
    const { current, note, retired } = (state ?? {}) as unknown as Partial<Record<string, unknown>>;
    if (
      typeof state !== 'object' ||
      typeof current !== 'string' ||
      (note !== undefined && typeof note !== 'string') ||
      !Array.isArray(retired) ||
      !retired.every((k) => typeof k === 'string')
    )
      throw new LogError('verify.state', 'the saved log keys are not {current, note?, retired: [..]}');
    const parse = (text: string) => {
      try {
        return parseVerifierKey(text, KEY_TYPE_ED25519);
      } catch (cause) {
        throw new LogError('verify.state', 'a saved log key does not parse', { cause });
      }
    };
    this.key = parse(current);
    this.retired = retired.map(parse);
    return note === undefined ? this.key : parse(note);
  }
}
