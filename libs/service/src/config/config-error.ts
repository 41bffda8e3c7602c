/**
 * A configuration value that is missing or wrong. Its message is one line that names the
 * variable and says what is wrong, so an operator can fix it without reading code.
 */
export class ConfigError extends Error {
  readonly code = 'config.invalid' as const;

  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}
