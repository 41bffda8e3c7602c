/** Which service this process is, for logs, metrics and health answers. */
export interface ServiceIdentity {
  readonly name: string;
  readonly version: string;
}

export const SERVICE_IDENTITY = Symbol('SERVICE_IDENTITY');
