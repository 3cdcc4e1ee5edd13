// Validates Kubernetes manifests offline against the API schemas bundled in kubernetes-models
// (Kubernetes' OpenAPI, compiled validators) and @kubernetes-models/prometheus-operator (the
// operator's CRDs, for ServiceMonitor and friends).
//
//   node tools/deploy-test/validate-k8s.mjs <file.yaml> ...      ("-" reads stdin)
//
// Prints one JSON document: [{ file, index, apiVersion, kind, name, error?, object }] for every
// YAML document. Exit code 1 if any document is invalid or has no known schema. Checked: types,
// required fields, enums and formats. Not checked: unknown (misspelled) fields — the bundled
// schemas allow extra properties, as the API server's non-strict mode does.
// A separate ESM script because kubernetes-models is ESM-only and the tests run in CommonJS.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** Module with the model classes of an apiVersion; CRD groups map to their package. */
function modelModule(apiVersion) {
  if (apiVersion.startsWith('monitoring.coreos.com/')) return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

const results = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const docs = parseAllDocuments(text);
  for (const [index, doc] of docs.entries()) {
    if (doc.errors.length > 0) {
      results.push({ file, index, error: `YAML: ${doc.errors.map((e) => e.message).join('; ')}` });
      continue;
    }
    const object = doc.toJS();
    if (object === null || object === undefined) continue;
    const { apiVersion, kind } = object;
    const entry = { file, index, apiVersion, kind, name: object.metadata?.name, object };
    try {
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw new Error('apiVersion and kind are required');
      let Model;
      try {
        Model = (await import(modelModule(apiVersion)))[kind];
      } catch {
        Model = undefined;
      }
      if (typeof Model !== 'function') throw new Error(`no schema for ${apiVersion} ${kind}`);
      new Model(object).validate();
    } catch (error) {
      entry.error = error.message;
    }
    results.push(entry);
  }
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n');
process.exitCode = results.some((r) => r.error !== undefined) ? 1 : 0;
