import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { itemLabel, itemProblem, loadEvidence } from '../../src/inventory/file.ts';
import { validator } from '../../src/util/schemas.ts';
import { removeDir, tempDir } from './certs.ts';

/** A source entry of a report or inventory (only these fields are read here; all are checked by the loader). */
interface CollectedSource {
  id: string;
  errors: readonly { code: string; message: string }[];
}

/**
 * The contract between collecting and evaluating: every item a collector produced is a valid
 * inventory item, none was left out as invalid, and an inventory file made of them is accepted by
 * the loader `keydrift evaluate --inventory` uses (which refuses a file with any invalid item).
 * Each collector's test calls it with what that collector produced against its real backend: the
 * items it yielded, or a scan report's `inventory` and `sources`.
 */
export async function assertEvaluateAccepts(items: readonly unknown[], sources: readonly CollectedSource[] = []): Promise<void> {
  assert.ok(items.length > 0, 'no items: an empty collection proves nothing about the contract');
  const leftOut = sources.flatMap((source) => source.errors.filter((error) => error.code === 'item-invalid').map((error) => `${source.id}: ${error.message}`));
  assert.deepEqual(leftOut, [], 'the collection loop left out items that are not valid inventory items');
  for (const [index, item] of items.entries()) assert.equal(itemProblem(item), null, itemLabel(item, index));
  const dir = tempDir('keydrift-evidence-');
  try {
    const file = path.join(dir, 'inventory.json');
    const inventory = { schemaVersion: '1', kind: 'inventory', tool: { name: 'keydrift', version: 'test' }, collectedAt: new Date().toISOString(), sources, items };
    // Through JSON, as a saved inventory travels: a value JSON cannot carry would show here.
    writeFileSync(file, JSON.stringify(inventory));
    const loaded = await loadEvidence(file, { invalidItems: 'reject' });
    assert.equal(loaded.items.length, items.length);
    const validate = validator('inventory');
    assert.ok(validate({ ...inventory, items: loaded.items }), JSON.stringify(validate.errors?.slice(0, 3)));
  } finally {
    removeDir(dir);
  }
}
