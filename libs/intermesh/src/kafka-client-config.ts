import { KafkaConfig, logLevel } from 'kafkajs';

export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

/**
 * kafkajs settings shared by every producer, consumer and admin client of a portal: bounded
 * retries with backoff (a broker restart is survived, a dead broker is reported), and only
 * warnings from kafkajs's own logger (the services log what matters themselves).
 */
export function kafkaClientConfig(connection: KafkaConnection): KafkaConfig {
  return {
    clientId: connection.clientId,
    brokers: [...connection.brokers],
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
  };
}
