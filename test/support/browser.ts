import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

// Debian's Chromium (scripts/provision.sh installs it), driven by playwright-core, which never downloads a
// browser: it is told where this one is. Opens one local file and records what a test of a self-contained page
// must see nothing of: every request (the file itself included), console errors and uncaught exceptions, and
// Content-Security-Policy violations. test/e2e/browser-harness.test.ts proves each of these on a page of its own.

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '../../test-artifacts/browser');

// --no-sandbox: Chromium's sandbox refuses to start as root (and playwright passes it by default anyway).
// The rest silence Chromium's own background connections (updates, sync, QUIC probes), which fail noisily
// on a closed network and would be requests nobody asked for.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// What the functions run in the page use of its globals (the project's TypeScript has no DOM library).
declare const document: { addEventListener(type: 'securitypolicyviolation', listener: (event: CspViolation) => void, options: { capture: boolean }): void };
declare function requestAnimationFrame(callback: () => void): number;

// Called from the page's init script; a binding reports at once and survives navigations, where a
// list kept in the page would be read too late or lost.
const CSP_BINDING = '__keydriftHarnessCspViolation';

export interface CspViolation {
  effectiveDirective: string;
  violatedDirective: string;
  blockedURI: string;
  sourceFile: string;
  lineNumber: number;
  sample: string;
}

export interface OpenPageOptions {
  viewport?: { width: number; height: number };
  /** Default timeout of every page action and wait, in ms. */
  timeoutMs?: number;
  /** Only for the harness's own test of a missing browser. */
  chromiumPath?: string;
}

export interface BrowserPage {
  page: Page;
  /** The file:// URL of the file opened. */
  url: string;
  /** Time from navigation start to the load event, in ms. */
  loadMs: number;
  /** Every request any page of the browser made, in order, the file itself first, including those CSP blocked (Chromium makes no request for a data: URL). */
  requests: string[];
  /** console.error messages and uncaught exceptions ("uncaught: ..."). */
  consoleErrors: string[];
  cspViolations: CspViolation[];
  /** The temporary profile directory; removed by close(). */
  userDataDir: string;
  /** Lets events the page has queued (a CSP violation is dispatched as a task) reach the lists above. */
  settle(): Promise<void>;
  /** Saves a PNG to test-artifacts/browser/<name> (of one element with `selector`) and returns its path. */
  screenshot(name: string, options?: { selector?: string; fullPage?: boolean }): Promise<string>;
  /** Closes the browser and removes its profile; safe to call twice. */
  close(): Promise<void>;
}

function assertChromiumInstalled(executable: string): void {
  try {
    accessSync(executable, constants.X_OK);
  } catch {
    throw new Error(`Chromium is missing (${executable}): run "bash scripts/provision.sh" (installs Debian's chromium) before the browser tests`);
  }
}

/**
 * Launches headless Chromium with a fresh profile and opens `file` (a local path) in it. On any failure
 * while opening, the browser is closed before the error is thrown; after that the caller closes it:
 * prefer `withPage`, which always does.
 */
export async function openPage(file: string, options: OpenPageOptions = {}): Promise<BrowserPage> {
  const executablePath = options.chromiumPath ?? CHROMIUM;
  assertChromiumInstalled(executablePath);
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'keydrift-chromium-'));
  let context: BrowserContext | null = null;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    try {
      await context?.close();
    } finally {
      rmSync(userDataDir, { recursive: true, force: true });
    }
  };
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: options.viewport ?? { width: 1280, height: 900 },
      timeout: 60_000,
      acceptDownloads: false,
      serviceWorkers: 'block',
    });
    context.setDefaultTimeout(options.timeoutMs ?? 30_000);
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    const cspViolations: CspViolation[] = [];
    context.on('request', (request) => requests.push(request.url()));
    // A test must never reach a network, even an open one: anything but a local file is refused (and still recorded).
    await context.route((url) => url.protocol !== 'file:' && url.protocol !== 'data:', (route) => route.abort('blockedbyclient'));
    await context.exposeBinding(CSP_BINDING, (_source, violation: CspViolation) => {
      cspViolations.push(violation);
    });
    // Init scripts run before the page's own and are not subject to its CSP.
    await context.addInitScript((binding: string) => {
      document.addEventListener('securitypolicyviolation', (event) => {
        const report = (globalThis as unknown as Record<string, (violation: unknown) => void>)[binding];
        report?.({
          effectiveDirective: event.effectiveDirective,
          violatedDirective: event.violatedDirective,
          blockedURI: event.blockedURI,
          sourceFile: event.sourceFile,
          lineNumber: event.lineNumber,
          sample: event.sample,
        });
      }, { capture: true });
    }, CSP_BINDING);

    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));

    const url = pathToFileURL(path.resolve(file)).href;
    const started = performance.now();
    await page.goto(url, { waitUntil: 'load' });
    const loadMs = performance.now() - started;

    return {
      page,
      url,
      loadMs,
      requests,
      consoleErrors,
      cspViolations,
      userDataDir,
      settle: async () => {
        // Two animation frames and a task: violation events and console messages queued during the last
        // interaction have been dispatched, and their reports precede this evaluation's answer.
        await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0)))));
      },
      screenshot: async (name, shotOptions = {}) => {
        if (!/^[\w.-]+\.png$/.test(name)) throw new Error(`screenshot name must be a plain file name ending in .png, not ${JSON.stringify(name)}`);
        mkdirSync(ARTIFACTS_DIR, { recursive: true });
        const target = path.join(ARTIFACTS_DIR, name);
        if (shotOptions.selector) await page.locator(shotOptions.selector).screenshot({ path: target });
        else await page.screenshot({ path: target, fullPage: shotOptions.fullPage ?? false });
        return target;
      },
      close,
    };
  } catch (error) {
    // The error that stopped the opening is the one to see, not a failure to close after it.
    await close().catch(() => undefined);
    throw error;
  }
}

/** Opens `file`, runs `use`, and closes the browser whatever happens. */
export async function withPage<T>(file: string, options: OpenPageOptions, use: (session: BrowserPage) => Promise<T>): Promise<T> {
  const session = await openPage(file, options);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}
