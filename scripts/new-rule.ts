// Starts a built-in rule from templates/rule: `node scripts/new-rule.ts ID DOMAIN` appends the
// rule to policies/keydrift/DOMAIN/DOMAIN.rego, its tests to DOMAIN_test.rego, and writes
// rules/ID.yaml. Then `npm run docs` and `npm run policy:build` regenerate the catalogue Rego, the
// README table and the bundle. (A new domain also needs its folder, package and rules/schema.json
// entries: see rules/README.md.)
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TEMPLATES = 'templates/rule';

export function fill(template: string, id: string, domain: string): string {
  return template.replaceAll('__ID__', id).replaceAll('__DOMAIN__', domain).replaceAll('__slug__', id.toLowerCase().replaceAll('-', '_'));
}

function main(): void {
  const [id = '', domain = ''] = process.argv.slice(2);
  if (!/^KD-[A-Z]{3}-\d{3}$/.test(id) || !/^[a-z][a-z0-9_]*$/.test(domain)) fail(`usage: node scripts/new-rule.ts ID DOMAIN (e.g. KD-ROT-005 rotation); got "${id}" "${domain}"`);
  const yaml = path.join('rules', `${id}.yaml`);
  if (existsSync(yaml)) fail(`${yaml} exists already: ids are never reused`);
  const policy = path.join('policies/keydrift', domain, `${domain}.rego`);
  const tests = path.join('policies/keydrift', domain, `${domain}_test.rego`);
  for (const file of [policy, tests]) {
    if (!existsSync(file)) fail(`${file} does not exist: a new domain needs its folder, package and rules/schema.json entries first (rules/README.md)`);
  }
  if (!readFileSync(policy, 'utf8').includes('import data.keydrift.lib')) fail(`${policy} does not import data.keydrift.lib, which the template's rule uses`);
  appendFileSync(policy, fill(readFileSync(path.join(TEMPLATES, 'rule.rego.tmpl'), 'utf8'), id, domain));
  appendFileSync(tests, fill(readFileSync(path.join(TEMPLATES, 'rule_test.rego.tmpl'), 'utf8'), id, domain));
  writeFileSync(yaml, fill(readFileSync(path.join(TEMPLATES, 'rule.yaml.tmpl'), 'utf8'), id, domain));
  console.log(`new-rule: added ${id} to ${policy} and ${tests} and wrote ${yaml}; now run "npm run docs" and "npm run policy:build"`);
}

function fail(message: string): never {
  console.error(`new-rule: ${message}`);
  process.exit(2);
}

if (import.meta.main) main();
