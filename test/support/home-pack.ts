import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A pack's actions.yaml with one action, `SaveNote`, upserting an entity `note/<id>`. */
export function noteActions(pack: string): string {
  return [
    `pack: ${pack}`,
    `scroll: ${pack}`,
    'actions:',
    '  SaveNote:',
    "    description: Saves a note of the pack.",
    '    entity: note',
    '    id: "{id}"',
    '    effect: upsert',
    '    event: note.saved',
    '    payload: { type: object, additionalProperties: false, required: [id, text], properties: { id: { type: string, pattern: "^[a-z0-9-]{1,32}$" }, text: { type: string, maxLength: 200 } } }',
    '',
  ].join('\n');
}

/**
 * Writes a deployment pack into `<home>/packs/<pack>/`: its actions.yaml, its pack.js, and a policy
 * letting admins run its actions.
 */
export function writeHomePack(home: string, pack: string, actions: string, packJs: string): string {
  const dir = join(home, 'packs', pack);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'actions.yaml'), actions);
  writeFileSync(join(dir, 'pack.js'), packJs);
  writeFileSync(join(dir, 'policies.cedar'), `permit (principal in Writ::Role::"admin", action in Writ::Action::"pack:${pack}", resource);\n`);
  return dir;
}
