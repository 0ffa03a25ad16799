// Each setting's facts live once, in package.json: these tests fail when a contributed setting has no
// typed reader, a reader reads a key the manifest lacks, or what the code falls back to is not the
// manifest's default. The manifest is read from disk here, the file that ships.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BACKEND_PREFERENCES } from '../../src/agent/backendPreference';
import { readSetting, readSettings, SECTION, SETTING_KEYS, settingSchema, type SettingSchema } from '../../src/ui/settingReaders';

interface Manifest {
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  contributes: { configuration: { properties: Record<string, SettingSchema> } };
}

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;
const contributed = manifest.contributes.configuration.properties;
const short = (full: string) => full.slice(SECTION.length + 1);
const nothingSet = () => undefined;

test('every contributed setting has a typed reader, and every reader reads a contributed setting', () => {
  const contributedKeys = Object.keys(contributed).map(short).sort();
  const readKeys = [...SETTING_KEYS].sort();
  assert.deepEqual(contributedKeys.filter((k) => !readKeys.includes(k as never)), [], 'in package.json but never read');
  assert.deepEqual(readKeys.filter((k) => !contributedKeys.includes(k)), [], 'read but not contributed by package.json');
  assert.ok(Object.keys(contributed).every((k) => k.startsWith(`${SECTION}.`)));
});

test('a key the manifest does not contribute is refused loudly, not read as undefined', () => {
  assert.throws(() => settingSchema('scriptExclude'), /trainq\.scriptExclude, which package.json does not contribute/);
});

test('with nothing set, every setting reads as exactly its manifest default', () => {
  const read = readSettings(nothingSet);
  for (const key of SETTING_KEYS) {
    assert.deepEqual(read[key], contributed[`${SECTION}.${key}`].default, `trainq.${key}: the reader changes or rejects its own default`);
  }
});

test('an unusable value falls back to the manifest default, for every setting', () => {
  // hosts/hostConfig.ts validates trainq.hosts entry by entry and reports the bad ones; it gets the raw value.
  const checked = SETTING_KEYS.filter((k) => k !== 'hosts');
  for (const junk of [{ not: 'a setting' }, Symbol('junk'), Number.NaN, null, '']) {
    for (const key of checked) {
      if (junk === '' && key === 'python') {
        continue; // An empty interpreter is meaningful: ask the Python extension.
      }
      assert.deepEqual(readSetting(key, () => junk), contributed[`${SECTION}.${key}`].default, `trainq.${key} given ${String(junk)}`);
    }
  }
  assert.deepEqual(readSetting('hosts', () => 'not a list'), 'not a list');
});

test('numbers are clamped to the manifest\'s bounds, and integer settings are whole', () => {
  const numeric = Object.entries(contributed).filter(([, s]) => s.type === 'number' || s.type === 'integer');
  assert.ok(numeric.length >= 8, 'the scan found the numeric settings');
  for (const [full, schema] of numeric) {
    const key = short(full) as (typeof SETTING_KEYS)[number];
    const read = (v: number) => readSetting(key, () => v) as number;
    if (schema.minimum !== undefined) {
      assert.equal(read(schema.minimum - 1000.5), schema.minimum, `${full} below its minimum`);
    }
    if (schema.maximum !== undefined) {
      assert.equal(read(schema.maximum + 1000.5), schema.maximum, `${full} above its maximum`);
    }
    if (schema.type === 'integer') {
      assert.ok(Number.isInteger(read((schema.default as number) + 0.4)), `${full} is an integer setting`);
    }
  }
});

test('every enum setting\'s values are the ones the code knows', () => {
  assert.deepEqual(contributed['trainq.agent.backend'].enum, [...BACKEND_PREFERENCES]);
  for (const value of BACKEND_PREFERENCES) {
    assert.equal(readSetting('agent.backend', () => value), value);
  }
});

test('the README\'s Settings table lists every setting, and a default it spells out is the manifest\'s', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const rows = new Map([...readme.matchAll(/^\| `(trainq\.[^`]+)` \| (.*?) \|/gm)].map((m) => [m[1], m[2]]));
  assert.deepEqual(Object.keys(contributed).filter((k) => !rows.has(k)), [], 'settings missing from the README table');
  for (const [key, cell] of rows) {
    assert.ok(key in contributed, `the README documents ${key}, which package.json does not contribute`);
    const literal = /^`([^`]*)`$/.exec(cell)?.[1];
    if (literal !== undefined) {
      // Prose ("virtualenvs, node_modules, …") is a summary; a lone code span claims to be the value.
      const spelled = (() => {
        try {
          return JSON.parse(literal) as unknown;
        } catch {
          return literal;
        }
      })();
      assert.deepEqual(spelled, contributed[key].default, `README default of ${key}`);
    }
  }
});

test('restricted settings named for untrusted workspaces are contributed', () => {
  const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
  assert.deepEqual(restricted.filter((k) => !(k in contributed)), []);
});
