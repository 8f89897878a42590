// Validates YAML files against a JSON Schema (draft 2020-12) with ajv, as
// editors do: `node validate.js SCHEMA FILE[#data.KEY]...`. A `#data.KEY`
// suffix validates the YAML text held under data.KEY of the file (a
// Kubernetes ConfigMap). Prints one line per file, "ok FILE" or "invalid
// FILE: errors", and exits 1 when any file is invalid.
'use strict';
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, '..', 'servers', 'node_modules');
const Ajv2020 = require(path.join(modules, 'ajv', 'dist', '2020'));
const yaml = require(path.join(modules, 'js-yaml'));

const [schemaPath, ...files] = process.argv.slice(2);
const ajv = new Ajv2020({allErrors: true, strict: false});
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
// The core schema reads timestamps as strings, as the YAML extension does.
const load = (text) => yaml.load(text, {schema: yaml.CORE_SCHEMA});
let failed = 0;
for (const arg of files) {
  const [file, pointer] = arg.split('#');
  let doc = load(fs.readFileSync(file, 'utf8'));
  if (pointer) {
    for (const key of pointer.replace(/^data\./, 'data\u0000').split('\u0000')) doc = doc[key];
    doc = load(doc);
  }
  if (validate(doc)) {
    console.log(`ok ${arg}`);
  } else {
    failed++;
    const why = validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
        (e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : ''));
    console.log(`invalid ${arg}: ${why.join('; ')}`);
  }
}
process.exit(failed ? 1 : 0);
