import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The federation (docs/design/federation.md "Storage"):
 *
 * - `federation_portal` (one row) and `federation_peers`: the roster the replication service was
 *   started with, written by it at start so that the query service serves `/federation` and the
 *   mirrors without a configuration of its own. A peer removed from the configuration keeps its row
 *   (`configured = false`) and its mirror.
 * - `mirror_entries`, `mirror_tree_nodes`, `mirror_seals`, `mirror_profile_index`: each peer's
 *   verified log, the same shape as this portal's own log tables with a `peer` column, and the same
 *   database guards: one seal per (peer, part), each part starting where the previous one ended.
 * - `mirror_heads`: per peer, the last stored part and the log verifier's frontier, to resume from.
 * - `cosignatures`: verified cosignatures, both ways: peers' cosignatures of this portal's seals,
 *   this portal's own of peers' seals, and peers' of other peers' seals (gossip). `seal` is the note
 *   as its portal signed it, without cosignature lines.
 * - `findings`: audit evidence; `fingerprint` stores the same finding once.
 * - `witness_outbox`: messages for `intermesh.witness`, written in the transaction that made them
 *   true and deleted in the one that published them.
 */
export class Federation1763794800000 implements MigrationInterface {
  name = 'Federation1763794800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE federation_portal (
        one         boolean     PRIMARY KEY DEFAULT true CHECK (one),
        portal_id   text        NOT NULL CHECK (portal_id <> ''),
        witness_key text,
        quorum      integer     NOT NULL CHECK (quorum >= 0),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE federation_peers (
        peer         text        PRIMARY KEY CHECK (peer <> ''),
        origin       text        NOT NULL,
        verifier_key text        NOT NULL,
        witness_key  text        NOT NULL,
        query_url    text        NOT NULL,
        configured   boolean     NOT NULL DEFAULT true,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE mirror_entries (
        peer        text        NOT NULL,
        idx         bigint      NOT NULL CHECK (idx >= 0),
        entry       bytea       NOT NULL,
        leaf_hash   bytea       NOT NULL CHECK (octet_length(leaf_hash) = 32),
        account     text,
        mirrored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (peer, idx)
      )`);
    // The auditor rebuilds one account's rule state from its earlier entries.
    await queryRunner.query(`CREATE INDEX mirror_entries_account ON mirror_entries (peer, account, idx)`);
    await queryRunner.query(`
      CREATE TABLE mirror_tree_nodes (
        peer  text     NOT NULL,
        level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
        idx   bigint   NOT NULL CHECK (idx >= 0),
        hash  bytea    NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (peer, level, idx)
      )`);
    await queryRunner.query(`
      CREATE TABLE mirror_seals (
        peer          text        NOT NULL,
        part          bigint      NOT NULL CHECK (part >= 0),
        first         bigint      NOT NULL CHECK (first >= 0),
        size          bigint      NOT NULL,
        part_digest   bytea       NOT NULL CHECK (octet_length(part_digest) = 32),
        chain         bytea       NOT NULL CHECK (octet_length(chain) = 32),
        root          bytea       NOT NULL CHECK (octet_length(root) = 32),
        time_ms       bigint      NOT NULL CHECK (time_ms >= 0),
        note          text        NOT NULL CHECK (note <> ''),
        source        text        NOT NULL CHECK (source IN ('topic', 'catch-up')),
        mirrored_at   timestamptz NOT NULL DEFAULT now(),
        previous_part bigint GENERATED ALWAYS AS (CASE WHEN part = 0 THEN NULL ELSE part - 1 END) STORED,
        PRIMARY KEY (peer, part),
        CONSTRAINT mirror_seals_first_le_size CHECK (first <= size),
        CONSTRAINT mirror_seals_part0_starts_at_0 CHECK (part > 0 OR first = 0),
        CONSTRAINT mirror_seals_part_size_key UNIQUE (peer, part, size),
        CONSTRAINT mirror_seals_contiguous FOREIGN KEY (peer, previous_part, first)
          REFERENCES mirror_seals (peer, part, size)
      )`);
    await queryRunner.query(`CREATE INDEX mirror_seals_size ON mirror_seals (peer, size)`);
    await queryRunner.query(`
      CREATE TABLE mirror_heads (
        peer       text        PRIMARY KEY,
        part       bigint      NOT NULL,
        size       bigint      NOT NULL,
        frontier   jsonb       NOT NULL,
        note       text        NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mirror_heads_seal FOREIGN KEY (peer, part, size) REFERENCES mirror_seals (peer, part, size)
      )`);
    await queryRunner.query(`
      CREATE TABLE mirror_profile_index (
        peer       text COLLATE "C" NOT NULL,
        profile_id text COLLATE "C" NOT NULL CHECK (profile_id <> ''),
        idx        bigint NOT NULL,
        account    text   NOT NULL,
        state      text   NOT NULL CHECK (state IN ('set', 'deleted')),
        PRIMARY KEY (peer, profile_id, idx),
        FOREIGN KEY (peer, idx) REFERENCES mirror_entries (peer, idx)
      )`);
    await queryRunner.query(
      `CREATE INDEX mirror_profile_index_account ON mirror_profile_index (peer, account, idx)`,
    );
    await queryRunner.query(`
      CREATE TABLE cosignatures (
        subject     text        NOT NULL,
        part        bigint      NOT NULL CHECK (part >= 0),
        witness     text        NOT NULL,
        seal        text        NOT NULL,
        line        text        NOT NULL,
        cosigned_at bigint      NOT NULL CHECK (cosigned_at >= 0),
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject, part, witness)
      )`);
    await queryRunner.query(`CREATE INDEX cosignatures_witness ON cosignatures (witness, subject)`);
    await queryRunner.query(`
      CREATE TABLE findings (
        id          bigserial   PRIMARY KEY,
        fingerprint text        NOT NULL UNIQUE,
        subject     text        NOT NULL,
        reporter    text        NOT NULL,
        kind        text        NOT NULL
                    CHECK (kind IN ('equivocation', 'bad-part', 'gap', 'stale', 'rule')),
        part        bigint,
        code        text        NOT NULL,
        detail      text        NOT NULL,
        evidence    jsonb       NOT NULL,
        status      text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
        observed_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX findings_subject ON findings (subject, status, kind)`);
    await queryRunner.query(`
      CREATE TABLE witness_outbox (
        seq        bigserial   PRIMARY KEY,
        key        text        NOT NULL,
        type       text        NOT NULL CHECK (type IN ('cosignature', 'finding')),
        value      bytea       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'witness_outbox',
      'findings',
      'cosignatures',
      'mirror_profile_index',
      'mirror_heads',
      'mirror_seals',
      'mirror_tree_nodes',
      'mirror_entries',
      'federation_peers',
      'federation_portal',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
