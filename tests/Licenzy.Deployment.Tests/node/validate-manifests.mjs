// Checks Kubernetes manifests against the API schemas of kubernetes-models (types, required
// fields, formats). Usage: node validate-manifests.mjs FILE...
// Prints one JSON array: a result per YAML document. Kinds that kubernetes-models does not know
// (Dapr's CRDs, for instance) are reported as "unknown", for the caller to judge.
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";

async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
  try {
    const group = await import(`kubernetes-models/${apiVersion}`);
    return group[kind];
  } catch {
    return undefined;
  }
}

async function check(file) {
  const text = await readFile(file, "utf8");
  const results = [];
  let index = 0;
  for (const doc of parseAllDocuments(text)) {
    const at = { file, document: index++ };
    if (doc.errors.length > 0) {
      results.push({ ...at, result: "invalid", errors: doc.errors.map((e) => e.message) });
      continue;
    }
    const data = doc.toJS();
    if (data === null || data === undefined) continue;
    const { apiVersion, kind } = data;
    const identity = { ...at, apiVersion, kind, name: data.metadata?.name };
    const Model = await modelFor(apiVersion, kind);
    if (!Model) {
      results.push({ ...identity, result: "unknown" });
      continue;
    }
    try {
      new Model(data).validate();
      results.push({ ...identity, result: "valid" });
    } catch (error) {
      const errors = Array.isArray(error.errors) && error.errors.length > 0
        ? error.errors.map((e) => `${e.instancePath || "/"} ${e.message}`)
        : [String(error.message ?? error)];
      results.push({ ...identity, result: "invalid", errors });
    }
  }
  return results;
}

const all = [];
for (const file of process.argv.slice(2)) all.push(...(await check(file)));
process.stdout.write(JSON.stringify(all, null, 2) + "\n");
