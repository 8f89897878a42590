// Checks that an annotated job file (deploy/job.yaml) shows every key of the
// job schema, set or commented out ("# key: value" at the key's
// indentation), and that wherever the schema gives a default the file shows
// it, or says on that line what the default is ("# default …"):
//   node job_file.js SCHEMA JOB_FILE UNCOMMENTED_OUT
// Writes the file with every commented-out key restored to UNCOMMENTED_OUT
// (the caller loads it with vigil's own loader) and validates it against the
// schema with ajv. Prints "ok" or one line per problem, and exits 1 on any.
'use strict';
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, '..', 'servers', 'node_modules');
const Ajv2020 = require(path.join(modules, 'ajv', 'dist', '2020'));
const yaml = require(path.join(modules, 'js-yaml'));

const [schemaPath, jobPath, outPath] = process.argv.slice(2);
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
const problems = [];

// Every property path of the schema ("a.b", "a.[].c") and its default.
const resolve = (n) => {
  while (n && n.$ref) n = schema.$defs[n.$ref.split('/').pop()];
  return n;
};
const paths = new Map();
(function walk(node, prefix) {
  const n = resolve(node);
  if (!n) return;
  for (const o of [n, ...(n.allOf || []), ...(n.oneOf || []), ...(n.anyOf || [])].map(resolve)) {
    for (const [key, value] of Object.entries(o.properties || {})) {
      const d = value.default !== undefined ? value.default : (resolve(value) || {}).default;
      paths.set(prefix + key, d);
      walk(value, prefix + key + '.');
    }
    if (o.items) walk(o.items, prefix + '[].');
  }
})(schema, '');

// The lines, with commented-out keys and list items restored.
const keyLine = /^(\s*)(- )?([A-Za-z0-9_.]+):(?:\s|$)/;
const lines = fs.readFileSync(jobPath, 'utf8').split('\n').map((line) => {
  const m = /^(\s*)# (\s*(?:- )?[A-Za-z0-9_.]+:(?:\s.*)?)$/.exec(line);
  return m ? m[1] + m[2] : line;
});
fs.writeFileSync(outPath, lines.join('\n'));

// The value of a key line and its comment ("" when none).
function valueAndComment(rest) {
  let quote = null;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || rest[i - 1] === ' ')) {
      return [rest.slice(0, i).trim(), rest.slice(i + 1).trim()];
    }
  }
  return [rest.trim(), ''];
}

// Walk the lines, tracking each key's path by indentation.
const seen = new Set();
const stack = [];  // {indent, segment}
lines.forEach((line, i) => {
  const m = keyLine.exec(line);
  if (!m) return;
  let indent = m[1].length;
  if (m[2]) {
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    stack.push({indent, segment: '[]'});
    indent += 2;
  }
  while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
  const key = m[3];
  const at = [...stack.map((s) => s.segment), key].join('.');
  stack.push({indent, segment: key});
  seen.add(at);
  if (!paths.has(at)) return;
  const def = paths.get(at);
  if (def === undefined || typeof def === 'object') return;
  const [value, comment] = valueAndComment(line.slice(m[0].length));
  const shown = value.replace(/^["']|["']$/g, '');
  if (shown !== String(def) && !/\bdefault\b/.test(comment)) {
    problems.push(`${jobPath}:${i + 1}: ${at} shows ${value || '(nothing)'}, the default is ` +
                  `${JSON.stringify(def)}; show the default or say it ("# default …")`);
  }
});
for (const p of paths.keys()) {
  if (!seen.has(p)) problems.push(`${jobPath}: no line shows ${p}, set or commented out`);
}

const ajv = new Ajv2020({allErrors: true, strict: false});
const validate = ajv.compile(schema);
const doc = yaml.load(lines.join('\n'), {schema: yaml.CORE_SCHEMA});
if (!validate(doc)) {
  for (const e of validate.errors) {
    problems.push(`${outPath}: ${e.instancePath || '/'} ${e.message}` +
                  (e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : ''));
  }
}
console.log(problems.length ? problems.join('\n') : 'ok');
process.exit(problems.length ? 1 : 0);
