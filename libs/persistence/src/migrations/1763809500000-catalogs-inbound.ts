import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue #20, catalogs and inbound services (docs/design/inbound.md). Nothing here is logged:
 *
 * - `user_catalog_objects`: the catalog services' objects (000 §3.2), one row per (account, catalog,
 *   retrieval key). `value` is the signed value or tombstone exactly as the device sent it (a JWS
 *   whose `Data` is a JWE the portal cannot read); `access_*` are the contact catalog's `Access`
 *   member, copied out of the signed payload so that access control is one indexed lookup.
 * - `inbound_spool`: the inbound items delivered to an account of this portal (contact requests,
 *   messages, tasks, confirmation requests and answers), keyed by (recipient, sender, envelope Id) so
 *   that a replay is a no-op and nobody can pre-empt another sender's Id. InboundDelete empties `envelope` and sets `deleted_at`; the row stays as a
 *   tombstone until INBOUND_MAX_AGE_MS so that a replayed envelope is not delivered again.
 * - `inbound_outbox`: the items this portal accepted for a recipient at another member, queued for its
 *   log topic (the replication service publishes them between parts). `queue_seq` is the newest
 *   log_queue row when the post was accepted; `after_size` the log size that must be published
 *   before the item is (set by the publisher once those rows are sequenced). Published rows stay
 *   (`published_at`) for the sender portal's hourly contact-request limit and are purged later.
 */
export class CatalogsInbound1763809500000 implements MigrationInterface {
  name = 'CatalogsInbound1763809500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE user_catalog_objects (
        account_udf    text COLLATE "C" NOT NULL REFERENCES accounts (account_udf),
        catalog        text COLLATE "C" NOT NULL CHECK (catalog IN ('contact', 'application', 'credential')),
        id             text COLLATE "C" NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{43}$'),
        state          text        NOT NULL CHECK (state IN ('active', 'inactive')),
        sequence       bigint      NOT NULL CHECK (sequence >= 1),
        value          text        NOT NULL CHECK (value <> ''),
        bytes          integer     NOT NULL CHECK (bytes > 0),
        access_account text COLLATE "C",
        access_master  text COLLATE "C",
        access_rule    text        CHECK (access_rule IN ('allow', 'block')),
        change         bigserial   NOT NULL UNIQUE,
        updated_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_udf, catalog, id),
        CHECK ((access_account IS NULL) = (access_rule IS NULL)),
        CHECK (access_master IS NULL OR access_account IS NOT NULL),
        CHECK (access_account IS NULL OR (catalog = 'contact' AND state = 'active')),
        CHECK (access_rule IS DISTINCT FROM 'allow' OR access_master IS NOT NULL)
      )`);
    await queryRunner.query(`
      CREATE INDEX user_catalog_objects_access ON user_catalog_objects (account_udf, access_account)
        WHERE catalog = 'contact' AND state = 'active' AND access_account IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE inbound_spool (
        account_udf  text COLLATE "C" NOT NULL REFERENCES accounts (account_udf),
        id           text COLLATE "C" NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
        kind         text        NOT NULL CHECK (kind IN ('contact', 'message', 'task', 'confirm', 'answer')),
        from_account text COLLATE "C" NOT NULL,
        from_master  text COLLATE "C" NOT NULL,
        from_device  text COLLATE "C" NOT NULL,
        origin       text        NOT NULL CHECK (origin <> ''),
        stranger     boolean     NOT NULL,
        envelope     text        CHECK (envelope IS NULL OR envelope <> ''),
        seq          bigserial   NOT NULL UNIQUE,
        received_at  timestamptz NOT NULL DEFAULT now(),
        deleted_at   timestamptz,
        PRIMARY KEY (account_udf, from_account, id),
        CHECK ((envelope IS NULL) = (deleted_at IS NOT NULL)),
        CHECK (NOT stranger OR kind = 'contact')
      )`);
    await queryRunner.query(
      `CREATE INDEX inbound_spool_listing ON inbound_spool (account_udf, seq) WHERE deleted_at IS NULL`,
    );
    await queryRunner.query(`
      CREATE INDEX inbound_spool_strangers ON inbound_spool (from_account, from_master, received_at)
        WHERE stranger`);
    await queryRunner.query(`
      CREATE INDEX inbound_spool_stranger_origins ON inbound_spool (account_udf, origin, received_at) WHERE stranger`);
    await queryRunner.query(`CREATE INDEX inbound_spool_age ON inbound_spool (received_at)`);
    await queryRunner.query(`
      CREATE TABLE inbound_outbox (
        seq          bigserial   PRIMARY KEY,
        id           text COLLATE "C" NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
        to_account   text COLLATE "C" NOT NULL,
        to_portal    text        NOT NULL CHECK (to_portal <> ''),
        from_account text COLLATE "C" NOT NULL,
        from_master  text COLLATE "C" NOT NULL,
        kind         text        NOT NULL CHECK (kind IN ('contact', 'message', 'task', 'confirm', 'answer')),
        stranger     boolean     NOT NULL CHECK (NOT stranger OR kind = 'contact'),
        envelope     text        NOT NULL CHECK (envelope <> ''),
        pow          text,
        queue_seq    bigint      NOT NULL CHECK (queue_seq >= 0),
        after_size   bigint      CHECK (after_size >= 0),
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        UNIQUE (to_account, from_account, id)
      )`);
    await queryRunner.query(
      `CREATE INDEX inbound_outbox_pending ON inbound_outbox (seq) WHERE published_at IS NULL`,
    );
    await queryRunner.query(`
      CREATE INDEX inbound_outbox_strangers ON inbound_outbox (from_account, from_master, created_at)
        WHERE stranger`);

    // Finding a recipient's home among the verified mirrors is a lookup by account alone.
    await queryRunner.query(`CREATE INDEX mirror_account_states_account ON mirror_account_states (account)`);

    const tables = 'user_catalog_objects, inbound_spool, inbound_outbox';
    await queryRunner.query(
      `REVOKE ALL ON TABLE ${tables} FROM cryptomesh_log_signer, cryptomesh_query, cryptomesh_gateway, cryptomesh_replication`,
    );
    // The gateway: the catalogs, the local spool, the outbox; it finds recipients in the mirrors.
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE user_catalog_objects, inbound_spool TO cryptomesh_gateway`,
    );
    await queryRunner.query(`GRANT SELECT, INSERT, DELETE ON TABLE inbound_outbox TO cryptomesh_gateway`);
    await queryRunner.query(`
      GRANT USAGE ON SEQUENCE user_catalog_objects_change_seq, inbound_spool_seq_seq, inbound_outbox_seq_seq
        TO cryptomesh_gateway`);
    await queryRunner.query(`GRANT SELECT ON TABLE mirror_account_states TO cryptomesh_gateway`);
    // The replication service: publishes the outbox, delivers relayed items to the local spool under
    // the recipient's contact catalog.
    await queryRunner.query(`GRANT SELECT, UPDATE, DELETE ON TABLE inbound_outbox TO cryptomesh_replication`);
    await queryRunner.query(`GRANT SELECT, INSERT, DELETE ON TABLE inbound_spool TO cryptomesh_replication`);
    await queryRunner.query(`GRANT USAGE ON SEQUENCE inbound_spool_seq_seq TO cryptomesh_replication`);
    await queryRunner.query(`
      GRANT SELECT (account_udf, catalog, state, access_account, access_master, access_rule)
        ON TABLE user_catalog_objects TO cryptomesh_replication`);
    await queryRunner.query(
      `GRANT SELECT (account_udf, status, master) ON TABLE accounts TO cryptomesh_replication`,
    );
    await queryRunner.query(`GRANT SELECT (seq) ON TABLE log_queue TO cryptomesh_replication`);
    // The query service answers where an account lives (GET /accounts/{address}).
    await queryRunner.query(`GRANT SELECT ON TABLE mirror_account_states TO cryptomesh_query`);
    await queryRunner.query(
      `GRANT SELECT (account_udf, status, master, personal) ON TABLE accounts TO cryptomesh_query`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `REVOKE SELECT ON TABLE mirror_account_states FROM cryptomesh_query, cryptomesh_gateway`,
    );
    await queryRunner.query(
      `REVOKE SELECT (account_udf, status, master, personal) ON TABLE accounts FROM cryptomesh_query`,
    );
    await queryRunner.query(
      `REVOKE SELECT (account_udf, status, master) ON TABLE accounts FROM cryptomesh_replication`,
    );
    await queryRunner.query(`REVOKE SELECT (seq) ON TABLE log_queue FROM cryptomesh_replication`);
    await queryRunner.query(`DROP INDEX mirror_account_states_account`);
    await queryRunner.query(`DROP TABLE inbound_outbox`);
    await queryRunner.query(`DROP TABLE inbound_spool`);
    await queryRunner.query(`DROP TABLE user_catalog_objects`);
  }
}
