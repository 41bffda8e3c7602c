import { buildPersonalProfile, type JsonObject } from '@cryptomesh/mesh';
import {
  applicationId,
  nextPersonalInput,
  openApplication,
  sealApplication,
  type ApplicationContent,
} from './application-data';
import type { MeshProfileManager } from './profile-manager';
import { requireAdministrator, writeApplicationDocument, writeProfileDocument } from './profile-document';

/**
 * An application's data as its apps see it (the password manager, 002 §4.4): read and write through
 * the profile manager — the bodies of MeshProfileManager.readApplication / writeApplication, which
 * document the contracts. Each call reads the current Master and Personal Profiles first (checked
 * and verified), so a write encrypts to exactly the devices connected now.
 */

export async function readApplicationData(
  manager: MeshProfileManager,
  type: string,
  name: string,
): Promise<JsonObject | undefined> {
  const opened = await manager.open();
  const session = opened.session;
  const doc = await manager.refresh(session, opened.doc);
  const id = applicationId(doc.personal.profile, type, name);
  const signed = await session.application(doc.master, doc.personal, id);
  if (signed === undefined) return undefined;
  await writeApplicationDocument(manager.store, signed);
  return (await openApplication(signed, session.keys, session.gateway.portal)) ?? {};
}

export async function writeApplicationData(
  manager: MeshProfileManager,
  content: ApplicationContent,
): Promise<void> {
  const opened = await manager.open();
  const session = opened.session;
  let doc = await manager.refresh(session, opened.doc);
  const id = applicationId(doc.personal.profile, content.type, content.name);
  if (!doc.personal.profile.applications.some((a) => a.id === id)) {
    requireAdministrator(doc, session.deviceId, `the ${content.type} application is not set up yet`);
    const applications = [
      ...doc.personal.profile.applications,
      { id, type: content.type, signers: doc.personal.profile.devices.map((d) => d.signature) },
    ];
    const personal = await buildPersonalProfile(
      nextPersonalInput(doc.personal.profile, { applications }),
      session.keys.signature,
    );
    await session.publish('update', personal);
    doc = { ...doc, personal };
    await writeProfileDocument(manager.store, doc);
  }
  const exists = (await session.getRaw(id)) !== undefined;
  const signed = await sealApplication(
    doc.personal.profile,
    content,
    session.keys,
    doc.master.profile.escrow,
  );
  await session.publish(exists ? 'update' : 'create', signed);
  await writeApplicationDocument(manager.store, signed);
}
