import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `findings.verified` (issue #14 hole 4, DESIGN.md invariant 7): whether this portal verified the
 * finding itself — its own audit found it, or its evidence proves it (an equivocation: two seals
 * signed by the subject) — or holds it only as a peer's claim. A claim is shown by `/findings` but is
 * not counted on `/federation` nor by the status page. Existing rows reported by a peer (other than
 * equivocations, verified at intake) become claims.
 */
export class FindingVerified1763805800000 implements MigrationInterface {
  name = 'FindingVerified1763805800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE findings ADD COLUMN verified boolean NOT NULL DEFAULT true`);
    await queryRunner.query(
      `UPDATE findings SET verified = false
        WHERE kind <> 'equivocation'
          AND reporter <> COALESCE((SELECT portal_id FROM federation_portal), reporter)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE findings DROP COLUMN verified`);
  }
}
