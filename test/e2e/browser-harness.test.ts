import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS_DIR, openPage, withPage, type BrowserPage } from '../support/browser.ts';
import { removeDir, tempDir } from '../support/certs.ts';

// The browser harness itself (test/support/browser.ts), on small pages of this test's own: what the HTML report's
// browser test relies on it to see (a request to anything but the file, a console error, a CSP violation) it sees.

const TOGGLE_SCRIPT = "document.getElementById('toggle').addEventListener('click', (event) => { event.target.textContent = 'on'; });";
// What the functions run in the page use of its globals (the project's TypeScript has no DOM library).
declare const document: { body: { dataset: Record<string, string | undefined> } };

const scriptHash = (script: string): string => `'sha256-${createHash('sha256').update(script).digest('base64')}'`;

// A tiny PNG as a data: URL, allowed by `img-src data:` like the report's own images.
const DOT_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** Allows only the toggle script, so the second inline script is a violation; images are not restricted, so the remote one is requested. */
const NOISY_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="script-src ${scriptHash(TOGGLE_SCRIPT)}">
<title>harness: noisy</title></head>
<body>
<button id="toggle" type="button">off</button>
<img src="https://example.invalid/x.png" alt="remote">
<script>${TOGGLE_SCRIPT}</script>
<script>document.body.dataset.blocked = 'ran';</script>
</body></html>
`;

/** The report's own policy: nothing but the file, its hashed script and data: images. */
const CLEAN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src ${scriptHash(TOGGLE_SCRIPT)}">
<title>harness: clean</title><style>button { font-size: 2rem; }</style></head>
<body>
<button id="toggle" type="button">off</button>
<img src="${DOT_PNG}" alt="dot">
<script>${TOGGLE_SCRIPT}</script>
</body></html>
`;

const ERRORING_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness: errors</title></head>
<body><script>console.error('logged on purpose'); throw new Error('thrown on purpose');</script></body></html>
`;

describe('browser harness (test/support/browser.ts)', () => {
  let dir = '';
  const file = (name: string): string => path.join(dir, name);

  before(() => {
    dir = tempDir('keydrift-browser-harness-');
    writeFileSync(file('noisy.html'), NOISY_PAGE);
    writeFileSync(file('clean.html'), CLEAN_PAGE);
    writeFileSync(file('erroring.html'), ERRORING_PAGE);
  });
  after(() => removeDir(dir));

  test('clicks change the page, and a remote image and a CSP-blocked inline script are both reported', async () => {
    await withPage(file('noisy.html'), {}, async (session) => {
      const { page } = session;
      assert.equal(await page.locator('#toggle').textContent(), 'off');
      await page.locator('#toggle').click();
      assert.equal(await page.locator('#toggle').textContent(), 'on', 'the hashed script ran and handled the click');
      assert.equal(await page.evaluate(() => document.body.dataset.blocked ?? null), null, 'the unhashed script did not run');
      await session.settle();

      assert.deepEqual(session.requests, [session.url, 'https://example.invalid/x.png']);
      assert.equal(session.cspViolations.length, 1, JSON.stringify(session.cspViolations));
      const [violation] = session.cspViolations;
      assert.match(violation!.effectiveDirective, /^script-src/);
      assert.equal(violation!.blockedURI, 'inline');
      assert.ok(session.consoleErrors.some((message) => /Content Security Policy/.test(message)), session.consoleErrors.join('\n'));
    });
  });

  test('a self-contained page under the report\'s CSP: one request (the file), no console error, no violation', async () => {
    await withPage(file('clean.html'), {}, async (session) => {
      await session.page.locator('#toggle').click();
      assert.equal(await session.page.locator('#toggle').textContent(), 'on');
      assert.equal(await session.page.locator('img').evaluate((image) => image.naturalWidth), 1, 'the data: image loaded');
      await session.settle();
      assert.deepEqual(session.requests, [session.url], 'a data: image is no request');
      assert.deepEqual(session.consoleErrors, []);
      assert.deepEqual(session.cspViolations, []);
      assert.ok(session.loadMs > 0);
    });
  });

  test('console.error and uncaught exceptions are collected', async () => {
    await withPage(file('erroring.html'), {}, async (session) => {
      await session.settle();
      assert.deepEqual(session.consoleErrors.sort(), ['logged on purpose', 'uncaught: thrown on purpose']);
      assert.deepEqual(session.cspViolations, []);
    });
  });

  test('screenshot saves a PNG under test-artifacts/browser and refuses a name that is a path', async () => {
    await withPage(file('clean.html'), { viewport: { width: 320, height: 200 } }, async (session) => {
      const whole = await session.screenshot('harness-page.png');
      const button = await session.screenshot('harness-button.png', { selector: '#toggle' });
      for (const shot of [whole, button]) {
        assert.equal(path.dirname(shot), ARTIFACTS_DIR);
        assert.deepEqual([...readFileSync(shot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${shot} is a PNG`);
      }
      await assert.rejects(session.screenshot('../escape.png'), /plain file name/);
    });
  });

  test('the browser is closed and its profile removed when the test body throws', async () => {
    let seen: BrowserPage | null = null;
    await assert.rejects(
      withPage(file('clean.html'), {}, async (session) => {
        seen = session;
        throw new Error('test body failed');
      }),
      /test body failed/,
    );
    const session = seen as BrowserPage | null;
    assert.ok(session);
    assert.ok(session.page.isClosed());
    assert.equal(existsSync(session.userDataDir), false);
  });

  test('a page that cannot be opened closes the browser and removes its profile before the error is thrown', async () => {
    // The profile is made in os.tmpdir(): a private one shows whether it was left behind.
    const privateTmp = path.join(dir, 'tmp');
    mkdirSync(privateTmp);
    const tmpBefore = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    try {
      await assert.rejects(openPage(file('does-not-exist.html')), /ERR_FILE_NOT_FOUND/);
    } finally {
      if (tmpBefore === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpBefore;
    }
    assert.deepEqual(readdirSync(privateTmp), []);
  });

  test('a missing Chromium fails with the command that installs it, never a skip', async () => {
    await assert.rejects(openPage(file('clean.html'), { chromiumPath: path.join(dir, 'no-chromium') }), (error: Error) => {
      assert.match(error.message, /Chromium is missing/);
      assert.match(error.message, /bash scripts\/provision\.sh/);
      return true;
    });
  });
});
