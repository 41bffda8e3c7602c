import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `connect_requests.witness` becomes `connect_requests.nonce` (issue #14, hole 1): the gateway no longer
 * computes the witness both devices compare; it relays the 16-byte value the new device chose, and each
 * device computes the witness itself from the account, the Device Profile's keys and that nonce
 * (`connectWitness` of @cryptomesh/mesh). A request pending across this migration keeps its old witness
 * text in the column: no administrator can reproduce a witness from it, so it is refused at accept and
 * expires (CONNECT_REQUEST_TTL_MS); the device connects again.
 */
export class ConnectNonce1763805600000 implements MigrationInterface {
  name = 'ConnectNonce1763805600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE connect_requests RENAME COLUMN witness TO nonce`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE connect_requests RENAME COLUMN nonce TO witness`);
  }
}
