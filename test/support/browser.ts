/**
 * Headless Chromium driven over the DevTools Protocol through
 * --remote-debugging-pipe (fd 3: commands in, fd 4: replies and events out,
 * NUL-terminated JSON), so no WebSocket client or npm package is needed.
 * Every network request the page makes is recorded (Network.requestWillBeSent),
 * and so are console errors, CSP violations and uncaught exceptions.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

/** The Chromium to use: $CHROMIUM, else the first of the usual names on PATH; undefined when there is none. */
export function findChromium(): string | undefined {
  const env = process.env.CHROMIUM;
  if (env) return existsSync(env) ? env : undefined;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    const path = r.stdout.trim();
    if (r.status === 0 && path) return path;
  }
  return undefined;
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  method: string;
}

export interface PageEvent {
  method: string;
  params: Record<string, unknown>;
}

export interface LoadedPage {
  /** Evaluate an expression in the page; returns its value (JSON-able). */
  evaluate<T>(expression: string): Promise<T>;
  /** PNG of the page at `width` CSS pixels: all of it, or its top `maxHeight` pixels. */
  screenshot(maxHeight?: number): Promise<Buffer>;
  /** URLs of every request the page made, the document itself included. */
  readonly requests: string[];
  /** Requests that failed or were blocked (blockedReason 'csp' for the page's Content-Security-Policy). */
  readonly failed: Array<{ url: string; blockedReason?: string; errorText?: string }>;
  /** Console errors, CSP violations, uncaught exceptions. */
  readonly errors: string[];
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: Array<(e: PageEvent & { sessionId?: string | undefined }) => void> = [];
  private buffer = '';
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly userDataDir: string,
  ) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => this.onData(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      if (this.stderr.length < 20_000) this.stderr += s;
    });
    child.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited during ${p.method}; stderr:\n${this.stderr.slice(-2000)}`));
      this.pending.clear();
    });
  }

  /**
   * Launch headless Chromium with a fresh profile, no background networking,
   * and every host name resolving to nothing (so even a leak could not leave the machine).
   */
  static async launch(executable: string): Promise<Browser> {
    const userDataDir = mkdtempSync(join(tmpdir(), 'report-chromium-'));
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--disable-default-apps',
      '--metrics-recording-only',
      '--mute-audio',
      '--hide-scrollbars',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      '--disable-dev-shm-usage',
      `--user-data-dir=${userDataDir}`,
      '--remote-debugging-pipe',
      'about:blank',
    ];
    const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const browser = new Browser(child, userDataDir);
    await browser.send('Browser.getVersion', {});
    return browser;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let nul = this.buffer.indexOf('\0'); nul >= 0; nul = this.buffer.indexOf('\0')) {
      const text = this.buffer.slice(0, nul);
      this.buffer = this.buffer.slice(nul + 1);
      const msg = JSON.parse(text) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
        sessionId?: string;
      };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else if (msg.method) {
        for (const l of this.listeners) l({ method: msg.method, params: msg.params ?? {}, sessionId: msg.sessionId });
      }
    }
  }

  send(method: string, params: Record<string, unknown>, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium is not running (stderr:\n${this.stderr.slice(-2000)})`));
    const id = this.nextId++;
    const message = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      (this.child.stdio[3] as Writable).write(`${message}\0`);
    });
  }

  private waitFor(sessionId: string, method: string, timeoutMs: number): Promise<PageEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);
      const l = (e: PageEvent & { sessionId?: string | undefined }) => {
        if (e.sessionId === sessionId && e.method === method) {
          clearTimeout(timer);
          this.listeners.splice(this.listeners.indexOf(l), 1);
          resolve(e);
        }
      };
      this.listeners.push(l);
    });
  }

  /** Open `path` (a local HTML file) in a new tab of `width`×`height` CSS pixels, wait for its load event. */
  async open(path: string, width = 1280, height = 900): Promise<LoadedPage> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const requests: string[] = [];
    const failed: LoadedPage['failed'] = [];
    const urls = new Map<string, string>();
    const errors: string[] = [];
    this.listeners.push((e) => {
      if (e.sessionId !== sessionId) return;
      // biome-ignore lint/suspicious/noExplicitAny: Chrome DevTools Protocol event params are untyped JSON, read field by field below
      const p = e.params as Record<string, any>;
      if (e.method === 'Network.requestWillBeSent') {
        requests.push(String(p.request?.url));
        urls.set(String(p.requestId), String(p.request?.url));
      } else if (e.method === 'Network.loadingFailed')
        failed.push({ url: urls.get(String(p.requestId)) ?? '?', blockedReason: p.blockedReason, errorText: p.errorText });
      else if (e.method === 'Log.entryAdded' && (p.entry?.level === 'error' || p.entry?.source === 'security' || p.entry?.source === 'violation'))
        errors.push(`log ${p.entry.source}: ${p.entry.text}`);
      else if (e.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'warning'))
        errors.push(`console.${p.type}: ${JSON.stringify(p.args)}`);
      else if (e.method === 'Runtime.exceptionThrown') errors.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
    });
    for (const domain of ['Page', 'Network', 'Runtime', 'Log']) await this.send(`${domain}.enable`, {}, sessionId);
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    const loaded = this.waitFor(sessionId, 'Page.loadEventFired', 30_000);
    const nav = (await this.send('Page.navigate', { url: pathToFileURL(path).href }, sessionId)) as { errorText?: string };
    if (nav.errorText) throw new Error(`navigation to ${path} failed: ${nav.errorText}`);
    await loaded;
    const evaluate = async <T>(expression: string): Promise<T> => {
      const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId)) as {
        result: { value: T };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (r.exceptionDetails) throw new Error(`evaluate(${expression.slice(0, 80)}): ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value;
    };
    const screenshot = async (maxHeight?: number): Promise<Buffer> => {
      const full = Math.min(maxHeight ?? Infinity, await evaluate<number>('Math.ceil(document.documentElement.scrollHeight)'));
      const r = (await this.send(
        'Page.captureScreenshot',
        { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height: full, scale: 1 } },
        sessionId,
      )) as { data: string };
      return Buffer.from(r.data, 'base64');
    };
    return { evaluate, screenshot, requests, failed, errors };
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      await this.send('Browser.close', {}).catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}
