// Runs graphql-http's serverAudits against the URL in argv[2]. Prints one
// line per audit; exits 1 when any MUST audit fails.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const results = await Promise.all(serverAudits({ url }).map((a) => a.fn()));
let mustFailed = 0;
const counts = {};
for (const r of results) {
  const level = r.name.split(' ')[0];
  counts[`${level} ${r.status}`] = (counts[`${level} ${r.status}`] ?? 0) + 1;
  if (level === 'MUST' && r.status !== 'ok') mustFailed++;
  console.log(`${r.status.padEnd(7)} ${r.id} ${r.name}${r.status === 'ok' ? '' : `: ${r.reason}`}`);
}
console.log(Object.entries(counts).sort().map(([k, v]) => `${k}: ${v}`).join(', '));
if (mustFailed) {
  console.error(`${mustFailed} MUST audit(s) failed`);
  process.exit(1);
}
