// One code-server + Chromium session per suite: a fresh copy of the fixture workspace, TrainQ installed
// from its VSIX with the fake 4-GPU nvidia-smi first on PATH, and everything torn down afterwards.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  assertCodeServerInstalled,
  packagedExtension,
  repoRoot,
  startCodeServer,
  type CodeServer,
  type CodeServerOptions,
} from './codeServer';
import { launchBrowser, openViewContainer, openWorkbench } from './workbench';

export interface WorkbenchSession {
  page: Page;
  server: CodeServer;
  workspace: string;
}

export interface SessionOptions {
  /** Install TrainQ and put the fake nvidia-smi on PATH (default true); false for the bare harness check. */
  trainq?: boolean;
  /** Adds to the workspace copy before the server starts (settings, extra scripts). */
  prepare?: (workspace: string) => void;
  /** Passed to startCodeServer; settings default to rare host polls, so no Job Queue redraw lands under a menu. */
  server?: Partial<Pick<CodeServerOptions, 'settings' | 'workspaceTrust' | 'env'>>;
  /** Opens the TrainQ container's Job Queue once the workbench is up. */
  openJobQueue?: boolean;
}

/** Registers before/after hooks for a session and returns its accessor for the tests. */
export function useWorkbenchSession(options: SessionOptions = {}): () => WorkbenchSession {
  const trainq = options.trainq ?? true;
  const session: Partial<WorkbenchSession> = {};
  let browser: Browser | undefined;
  before(async () => {
    assertCodeServerInstalled();
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-ws-'));
    session.workspace = workspace;
    fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspace'), workspace, { recursive: true });
    options.prepare?.(workspace);
    session.server = await startCodeServer({
      ...options.server,
      workspace,
      install: trainq ? [packagedExtension()] : [],
      pathPrefix: trainq ? [path.join(repoRoot, 'test', 'fixtures', 'bin')] : [],
      settings: { 'trainq.statusBar.pollSeconds': 300, ...options.server?.settings },
    });
    browser = await launchBrowser();
    session.page = await openWorkbench(browser, session.server.workbenchUrl);
    if (options.openJobQueue) {
      await openViewContainer(session.page, 'TrainQ', 'Job Queue');
    }
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await session.server?.stop();
    if (session.workspace) fs.rmSync(session.workspace, { recursive: true, force: true });
  });
  return () => {
    if (!session.page || !session.server || !session.workspace) throw new Error("the workbench did not open (see the before hook's error)");
    return session as WorkbenchSession;
  };
}
