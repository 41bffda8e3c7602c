/** Which service this process is, for logs, metrics and health answers. */
export interface ServiceIdentity {
  readonly name: string;
  readonly version: string;
}

export const SERVICE_IDENTITY = Symbol('SERVICE_IDENTITY');

/** The process's root pino logger (logging/logger-options.ts `createRootLogger`). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
