import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `connect_requests.source` (issue #15): the client address a ConnectStart came from (an IPv6 address
 * by its /64), so that one address cannot fill an account's pending requests
 * (MAX_PENDING_CONNECTIONS_PER_ADDRESS; docs/decisions.md "ConnectStart cannot shut an account out").
 * NULL for the requests made before: they count under the account's cap only.
 */
export class ConnectSource1763807500000 implements MigrationInterface {
  name = 'ConnectSource1763807500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE connect_requests ADD COLUMN source text`);
    await queryRunner.query(
      `CREATE INDEX connect_requests_source ON connect_requests (account_udf, source, created)
        WHERE source IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX connect_requests_source`);
    await queryRunner.query(`ALTER TABLE connect_requests DROP COLUMN source`);
  }
}
