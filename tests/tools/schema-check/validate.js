// Validates GraphQL documents against a schema in SDL, with graphql-js
// (which reads the SDL of the live schema; Debian's graphql-core 2.3 cannot).
//   node validate.js SCHEMA.graphql [Type.field,...] < documents.json
// The optional list names deprecated fields a document must not select
// (the SDL here does not carry deprecations).
// documents.json: { "NAME": "query ...", ... } (tests/tools/documents.lua).
// Prints one "error: NAME: ..." line per problem; exit 1 when any.
"use strict";
const fs = require("fs");
const { buildSchema, parse, validate, Kind, TypeInfo, visit, visitWithTypeInfo, getNamedType } =
  require("graphql");

// "Type.field" selections in doc that are in the banned set.
function banned(schema, doc, ban) {
  const found = [];
  if (ban.size === 0) return found;
  const info = new TypeInfo(schema);
  visit(doc, visitWithTypeInfo(info, {
    Field(node) {
      const parent = info.getParentType();
      const key = parent ? `${getNamedType(parent).name}.${node.name.value}` : "";
      if (ban.has(key)) found.push(`selects ${key}, which is deprecated`);
    },
  }));
  return found;
}

function problems(schema, text, ban) {
  let doc;
  try {
    doc = parse(text);
  } catch (e) {
    return [e.message.split("\n")[0]];
  }
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length !== 1 || !ops[0].name) return ["must hold exactly one named operation"];
  return validate(schema, doc).map((e) => e.message).concat(banned(schema, doc, ban));
}

function main() {
  const schemaPath = process.argv[2];
  if (!schemaPath) {
    console.error("usage: node validate.js SCHEMA.graphql < documents.json");
    process.exit(2);
  }
  const schema = buildSchema(fs.readFileSync(schemaPath, "utf8"));
  const ban = new Set((process.argv[3] || "").split(",").filter(Boolean));
  const docs = JSON.parse(fs.readFileSync(0, "utf8"));
  const names = Object.keys(docs).sort();
  let failed = 0;
  for (const name of names) {
    for (const p of problems(schema, docs[name], ban)) {
      console.error(`error: ${name}: ${p}`);
      failed++;
    }
  }
  if (names.length === 0) {
    console.error("error: no documents to check");
    failed++;
  }
  if (failed) process.exit(1);
  console.log(`${names.length} documents valid against ${schemaPath}`);
}

main();
