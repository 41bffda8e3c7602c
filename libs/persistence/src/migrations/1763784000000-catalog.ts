import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateway's catalog (DESIGN.md "Services"; docs/design/gateway.md "Schema"):
 *
 * - `accounts`: one row per account address ever assigned by this portal. The address is UNIQUE
 *   (addresses are unique per portal, 002 §3.3.2) and never reassigned, even after DeleteAccount.
 *   `master`/`personal` hold the current signed profiles (flattened JWS) that the rules of
 *   `@cryptomesh/mesh` need; `version` grows with every change so that a gateway can tell whether
 *   the state it validated against is still the state it locked.
 * - `catalog_objects`: the account's objects under the persistence model (000 §3.2.1): `active`
 *   with the signed value, or `deleted` (inactive, no value). Undefined = no row.
 * - `connect_requests`: connection requests (ConnectStart) and their decisions — gateway state
 *   only, never logged except through the ConnectComplete that accepts one.
 * - `escrow_blobs`: keyed by the UDF of the escrow key only; nothing names the owner (000 §6.5.1),
 *   and `created` is kept to the day so it cannot be matched with other rows' times.
 * - `request_nonces`: (account, nonce) of every accepted signed request, kept until the request
 *   would be refused as stale anyway (`expires_at` = request time + clock-skew window).
 */
export class Catalog1763784000000 implements MigrationInterface {
  name = 'Catalog1763784000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE accounts (
        account_udf text        PRIMARY KEY,
        address     text        NOT NULL UNIQUE CHECK (address = lower(address) AND address LIKE '%@%'),
        status      text        NOT NULL CHECK (status IN ('active', 'deleted')),
        master      jsonb       NOT NULL,
        personal    jsonb       NOT NULL,
        version     bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
        created     timestamptz NOT NULL DEFAULT now(),
        updated     timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE catalog_objects (
        account_udf text        NOT NULL REFERENCES accounts (account_udf),
        object_id   text        NOT NULL,
        kind        text        NOT NULL CHECK (kind IN ('master', 'personal', 'device', 'application')),
        state       text        NOT NULL CHECK (state IN ('active', 'deleted')),
        value       jsonb,
        updated     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_udf, object_id),
        CONSTRAINT catalog_objects_value_iff_active CHECK ((state = 'active') = (value IS NOT NULL))
      )`);
    // Get by id without an account (a profile id is a UDF; the same device may serve two accounts).
    await queryRunner.query(`CREATE INDEX catalog_objects_object_id ON catalog_objects (object_id)`);
    await queryRunner.query(`
      CREATE TABLE connect_requests (
        id          text        PRIMARY KEY,
        account_udf text        NOT NULL REFERENCES accounts (account_udf),
        device_id   text        NOT NULL,
        device      jsonb       NOT NULL,
        witness     text        NOT NULL,
        status      text        NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
        personal    jsonb,
        created     timestamptz NOT NULL DEFAULT now(),
        decided     timestamptz,
        CONSTRAINT connect_requests_personal_iff_accepted CHECK ((status = 'accepted') = (personal IS NOT NULL))
      )`);
    await queryRunner.query(
      `CREATE INDEX connect_requests_pending ON connect_requests (account_udf, created) WHERE status = 'pending'`,
    );
    await queryRunner.query(`
      CREATE TABLE escrow_blobs (
        key_udf text  PRIMARY KEY,
        blob    bytea NOT NULL CHECK (octet_length(blob) > 0),
        created date  NOT NULL DEFAULT current_date
      )`);
    await queryRunner.query(`
      CREATE TABLE request_nonces (
        account_udf text        NOT NULL,
        nonce       text        NOT NULL,
        expires_at  timestamptz NOT NULL,
        PRIMARY KEY (account_udf, nonce)
      )`);
    await queryRunner.query(`CREATE INDEX request_nonces_expires_at ON request_nonces (expires_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE request_nonces`);
    await queryRunner.query(`DROP TABLE escrow_blobs`);
    await queryRunner.query(`DROP TABLE connect_requests`);
    await queryRunner.query(`DROP TABLE catalog_objects`);
    await queryRunner.query(`DROP TABLE accounts`);
  }
}
