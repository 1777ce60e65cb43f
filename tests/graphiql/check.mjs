// GraphiQL in a real browser: loads BASE/graphiql in headless Chromium
// with every request outside BASE refused (and DNS answering nothing),
// types a query into the editor, presses the run button, and reads the
// answer from the result pane. With TOKEN (a server with anonymous
// access off), the first run must be refused (UNAUTHENTICATED), then the
// token is typed into the Headers tab and the run must answer.
// Usage: node check.mjs BASE CHROMIUM [TOKEN]
import puppeteer from 'puppeteer-core';

const [base, executablePath, token] = process.argv.slice(2);
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
  // Runs the query and waits for a result pane containing `needle`.
  const run = async (needle) => {
    await page.click('.graphiql-execute-button');
    return page.waitForFunction(
      (n) => {
        const cm = document.querySelector('.graphiql-response .CodeMirror');
        const text = cm && cm.CodeMirror.getValue();
        return text && text.includes(n) ? text : null;
      },
      { timeout: 60000 },
      needle,
    );
  };
  if (token) {
    const refused = await (await run('"errors"')).jsonValue();
    if (!refused.includes('UNAUTHENTICATED')) await fail(`without the token: ${refused}`);
    console.log('graphiql: without a token the result pane shows UNAUTHENTICATED');
    // The Headers tab of the editor tools, then its editor.
    const opened = await page.evaluate(() => {
      const tab = [...document.querySelectorAll('.graphiql-editor-tools button')].find((b) =>
        b.textContent.trim().startsWith('Headers'),
      );
      if (!tab) return false;
      tab.click();
      return true;
    });
    if (!opened) await fail('no Headers tab in the editor tools');
    await page.waitForFunction(() => document.querySelectorAll('.graphiql-editor-tool .CodeMirror').length > 0);
    await page.evaluate((t) => {
      // The tab's editor is the one not hidden (GraphiQL hides the other by class).
      const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')];
      const visible = editors.find((e) => !e.parentElement.classList.contains('hidden'));
      visible.CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${t}` }));
    }, token);
    // GraphiQL reads its editors through a debounce (500 ms).
    await new Promise((r) => setTimeout(r, 1500));
  }
  const handle = await run('"data"');
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
