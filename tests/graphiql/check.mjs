// GraphiQL in a real browser: loads BASE/graphiql in headless Chromium
// with every request outside BASE refused (and DNS answering nothing),
// types a query into the editor, presses the run button, and reads the
// answer from the result pane. Usage: node check.mjs BASE CHROMIUM
import puppeteer from 'puppeteer-core';

const [base, executablePath] = process.argv.slice(2);
const origin = new URL(base).origin;
const query = '{ branch(name: "main") { objectType(apiName: "Employee") { apiName extends } } }';

const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // The network is closed: no name resolves except the loopback address.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ],
});
const fail = async (msg) => {
  console.error(`graphiql: ${msg}`);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage();
  const outside = [];
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const url = req.url();
    if (url.startsWith(origin + '/') || url.startsWith('data:') || url.startsWith('blob:')) {
      req.continue();
    } else {
      outside.push(url);
      req.abort('internetdisconnected');
    }
  });
  const res = await page.goto(`${base}/graphiql`, { waitUntil: 'networkidle0', timeout: 60000 });
  if (res.status() !== 200) await fail(`GET /graphiql answered ${res.status()}`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 60000 });
  // What a user's typing does: replace the editor's text.
  await page.evaluate((q) => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q);
  }, query);
  await page.click('.graphiql-execute-button');
  const handle = await page.waitForFunction(
    () => {
      const cm = document.querySelector('.graphiql-response .CodeMirror');
      const text = cm && cm.CodeMirror.getValue();
      return text && text.includes('"data"') ? text : null;
    },
    { timeout: 60000 },
  );
  const result = JSON.parse(await handle.jsonValue());
  console.log(`graphiql: result pane shows ${JSON.stringify(result)}`);
  const employee = result.data && result.data.branch && result.data.branch.objectType;
  if (!employee || employee.apiName !== 'Employee') await fail('unexpected result');
  if (outside.length) await fail(`requests outside ${origin}: ${outside.join(', ')}`);
  if (errors.length) await fail(`page errors: ${errors.join('; ')}`);
  console.log(`graphiql: ok (no request left ${origin})`);
} catch (e) {
  await fail(String(e && e.stack ? e.stack : e));
}
await browser.close();
