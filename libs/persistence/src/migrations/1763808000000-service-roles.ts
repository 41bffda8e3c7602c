import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Least privilege inside the portal's database (issue #15; docs/OPERATIONS.md "Database roles"):
 * one NOLOGIN group role per service, with only the rights that service needs. A deployment creates
 * one LOGIN user per service and grants it its group role (`GRANT cryptomesh_query TO alpha_query`);
 * the migrations run as the owner of the tables (the role that ran the earlier migrations), which
 * is the only role that may change the schema.
 *
 * - `cryptomesh_query` (internet-facing, read-only): SELECT on what it serves — the own log, the
 *   mirrors, the federation roster, cosignatures, findings — and of the queue only `seq` and
 *   `queued_at` (the backlog it reports), never the queued bytes. Nothing of the gateway's catalog.
 * - `cryptomesh_gateway`: the catalog (accounts, objects, connection requests, escrow, nonces) and
 *   INSERT of `entry` and `request_id` into the queue (not `queued_at`, which the backlog and the
 *   pushback trust). It cannot read the queued bytes back, change or delete a queued row, nor
 *   touch a sequenced entry, a tree node or a seal.
 * - `cryptomesh_log_signer`: the only role that writes the own log — entries, tree nodes, seals,
 *   the profile index — and consumes the queue (SELECT, DELETE; UPDATE of `queued_at` only, which
 *   PostgreSQL requires for `FOR UPDATE SKIP LOCKED`).
 * - `cryptomesh_replication`: reads the own log (to publish it and to cosign intake), writes the
 *   mirrors, cosignatures, findings, the roster, the publication cursor, its consumer progress and
 *   the witness outbox; it cannot write the own log or the queue.
 * - every service role: SELECT on `schema_migrations` (DB_MIGRATIONS=check).
 *
 * Tables created later by the owner (ALTER DEFAULT PRIVILEGES, which applies to the role running
 * the migrations): readable by the log-signer and the replication role, by nothing else, writable
 * by none — a migration that adds a table grants its writers and (for the internet-facing query
 * and gateway) its readers by name; test/integration/database-roles.spec.ts holds every table's
 * grants and fails on a table it does not know.
 *
 * The group roles are cluster-wide: created here if absent (which needs CREATEROLE; an owner
 * without it needs them created first, docs/OPERATIONS.md), never dropped by `down`, since other
 * databases of the cluster may use them. A group role that exists with LOGIN or any attribute that
 * would bypass its grants (superuser, BYPASSRLS, CREATEROLE, CREATEDB) is refused.
 */
export class ServiceRoles1763808000000 implements MigrationInterface {
  name = 'ServiceRoles1763808000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$
      DECLARE
        r text;
      BEGIN
        FOREACH r IN ARRAY ARRAY['cryptomesh_query', 'cryptomesh_gateway', 'cryptomesh_log_signer', 'cryptomesh_replication'] LOOP
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
              EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
              NULL; -- created meanwhile by the migration of another database of this cluster
            END;
          END IF;
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r
                       AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb)) THEN
            RAISE EXCEPTION 'role % must be a plain NOLOGIN group role (no LOGIN, SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB): grant it to a LOGIN user instead', r;
          END IF;
        END LOOP;
      END $$`);

    const grants: Array<[string, string, string]> = [
      // [privileges, table, role]
      [
        'SELECT',
        'schema_migrations',
        'cryptomesh_query, cryptomesh_gateway, cryptomesh_log_signer, cryptomesh_replication',
      ],

      // The queue: the gateway appends, the log-signer consumes, the others see only its depth and age.
      ['SELECT (seq, queued_at)', 'log_queue', 'cryptomesh_query, cryptomesh_gateway'],
      ['INSERT (entry, request_id)', 'log_queue', 'cryptomesh_gateway'],
      ['SELECT, DELETE, UPDATE (queued_at)', 'log_queue', 'cryptomesh_log_signer'],

      // The own log: written by the log-signer only.
      ['SELECT, INSERT', 'log_entries', 'cryptomesh_log_signer'],
      ['SELECT, INSERT', 'log_tree_nodes', 'cryptomesh_log_signer'],
      ['SELECT, INSERT', 'log_seals', 'cryptomesh_log_signer'],
      ['SELECT, INSERT', 'log_profile_index', 'cryptomesh_log_signer'],
      ['SELECT, UPDATE', 'log_profile_index_state', 'cryptomesh_log_signer'],
      [
        'SELECT',
        'log_entries, log_tree_nodes, log_seals, log_profile_index, log_profile_index_state',
        'cryptomesh_query, cryptomesh_replication',
      ],

      // The catalog: the gateway's alone.
      ['SELECT, INSERT, UPDATE', 'accounts, catalog_objects', 'cryptomesh_gateway'],
      ['SELECT, INSERT, UPDATE, DELETE', 'connect_requests', 'cryptomesh_gateway'],
      ['SELECT, INSERT', 'escrow_blobs', 'cryptomesh_gateway'],
      ['SELECT, INSERT, DELETE', 'request_nonces', 'cryptomesh_gateway'],

      // The federation: written by the replication service, served by the query service.
      [
        'SELECT, INSERT, UPDATE',
        'federation_portal, federation_peers, mirror_heads, mirror_account_states, findings, log_publication, consumer_progress',
        'cryptomesh_replication',
      ],
      [
        'SELECT, INSERT',
        'mirror_entries, mirror_tree_nodes, mirror_seals, mirror_profile_index, cosignatures',
        'cryptomesh_replication',
      ],
      ['SELECT, INSERT, DELETE, UPDATE (created_at)', 'witness_outbox', 'cryptomesh_replication'],
      [
        'SELECT',
        'federation_portal, federation_peers, mirror_entries, mirror_tree_nodes, mirror_seals, mirror_heads, mirror_profile_index, cosignatures, findings',
        'cryptomesh_query',
      ],
    ];
    for (const [privileges, tables, roles] of grants)
      await queryRunner.query(`GRANT ${privileges} ON TABLE ${tables} TO ${roles}`);
    await queryRunner.query(`GRANT USAGE ON SEQUENCE log_queue_seq_seq TO cryptomesh_gateway`);
    await queryRunner.query(
      `GRANT USAGE ON SEQUENCE findings_id_seq, witness_outbox_seq_seq TO cryptomesh_replication`,
    );

    // Future tables: readable by the internal services only, writable by none until granted
    // (PUBLIC gets nothing on a new table or sequence: PostgreSQL's own default).
    await queryRunner.query(
      `ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO cryptomesh_log_signer, cryptomesh_replication`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const roles = 'cryptomesh_query, cryptomesh_gateway, cryptomesh_log_signer, cryptomesh_replication';
    await queryRunner.query(
      `ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM cryptomesh_log_signer, cryptomesh_replication`,
    );
    await queryRunner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${roles}`);
    await queryRunner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${roles}`);
  }
}
