// Every snippet docs/frontend.md shows is a file the client tests run:
// each must appear in the page verbatim, in a fenced code block.
// Usage: node docs-check.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const page = fs.readFileSync(path.resolve(here, '../../docs/frontend.md'), 'utf8');
const blocks = [...page.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

const snippets = [
  'snippets/apollo3.mjs',
  'apollo4/snippet.mjs',
  'snippets/urql.mjs',
  'snippets/relay.mjs',
  'relay/src/BranchHistory.js',
  'snippets/subscriptions.mjs',
  'snippets/codegen.yml',
];
let missing = 0;
for (const file of snippets) {
  const text = fs.readFileSync(path.join(here, file), 'utf8');
  if (!blocks.includes(text)) {
    missing += 1;
    console.log(`FAILED  docs/frontend.md does not show tests/clients/${file} verbatim`);
  }
}
if (missing) process.exit(1);
console.log(`docs/frontend.md: all ${snippets.length} snippets are the files the tests run`);
