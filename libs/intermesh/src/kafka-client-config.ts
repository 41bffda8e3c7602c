import { KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import { repairKafkaRequestQueue } from './kafka-request-queue';

/** SASL credentials of a portal's Kafka principal (docs/kafka-security.md). */
export interface KafkaSasl {
  readonly mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain';
  readonly username: string;
  readonly password: string;
}

export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** SASL authentication; absent: none (a loopback development broker). */
  readonly sasl?: KafkaSasl | undefined;
  /** TLS to the brokers: `true` trusts the system's roots, `{ ca }` only those PEM certificates. */
  readonly ssl?: boolean | { readonly ca: string } | undefined;
}

/**
 * kafkajs settings shared by every producer, consumer and admin client of a portal: bounded
 * retries with backoff (a broker restart is survived, a dead broker is reported), and only
 * warnings from kafkajs's own logger (the services log what matters themselves). Repairs kafkajs's
 * idle timer loop first (kafka-request-queue.ts), so no client made from this config runs that loop.
 */
export function kafkaClientConfig(connection: KafkaConnection): KafkaConfig {
  repairKafkaRequestQueue();
  return {
    clientId: connection.clientId,
    brokers: [...connection.brokers],
    ...(connection.sasl === undefined ? {} : { sasl: saslOptions(connection.sasl) }),
    ...(connection.ssl === undefined || connection.ssl === false
      ? {}
      : { ssl: connection.ssl === true ? true : { ca: [connection.ssl.ca] } }),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
  };
}

/** kafkajs's SASL options (a union per mechanism) of our credentials. */
function saslOptions({ mechanism, username, password }: KafkaSasl): SASLOptions {
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}
