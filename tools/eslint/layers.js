// ESLint rule: imports point down the layer stack of DESIGN.md, never sideways.
// A file's layer is the first folder under src/; test/ and bench/ may import anything.
import path from 'node:path';

/** layer -> the layers it may import (besides itself) */
export const ALLOWED = {
  errors: [],
  util: ['errors'],
  oci: ['errors', 'util'],
  sys: ['errors', 'util'],
  runtime: ['sys', 'oci', 'util', 'errors'],
  store: ['sys', 'oci', 'util', 'errors'],
  registry: ['sys', 'oci', 'util', 'errors'],
  build: ['sys', 'oci', 'util', 'errors'],
  network: ['sys', 'oci', 'util', 'errors'],
  daemon: ['runtime', 'store', 'registry', 'build', 'network', 'sys', 'oci', 'util', 'errors'],
  server: ['daemon', 'oci', 'util', 'errors'],
  client: ['oci', 'util', 'errors'],
  cli: ['client', 'oci', 'util', 'errors'],
  'runtime-cli': ['runtime', 'oci', 'sys', 'util', 'errors'],
  berthd: ['server', 'daemon', 'runtime', 'store', 'registry', 'build', 'network', 'sys', 'oci', 'util', 'errors'],
};

function layerOf(file) {
  const parts = path.relative(process.cwd(), file).split(path.sep);
  if (parts[0] !== 'src' || parts.length < 3) return undefined;
  return parts[1];
}

export const layersRule = {
  meta: { type: 'problem', schema: [], messages: {
    unknown: "'{{layer}}' is not a layer of DESIGN.md; add it to tools/eslint/layers.js",
    upward: "layer '{{from}}' may not import from layer '{{to}}' (imports point down only; see DESIGN.md)",
  } },
  create(context) {
    const from = layerOf(context.filename);
    if (from === undefined) return {};
    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(context.filename), source);
      const to = layerOf(target);
      if (to === undefined || to === from) return;
      const allowed = ALLOWED[from];
      if (allowed === undefined) { context.report({ node, messageId: 'unknown', data: { layer: from } }); return; }
      if (!allowed.includes(to)) context.report({ node, messageId: 'upward', data: { from, to } });
    }
    return {
      ImportDeclaration(node) { check(node, node.source.value); },
      ExportNamedDeclaration(node) { if (node.source) check(node, node.source.value); },
      ExportAllDeclaration(node) { check(node, node.source.value); },
      ImportExpression(node) { if (node.source.type === 'Literal') check(node, node.source.value); },
    };
  },
};
