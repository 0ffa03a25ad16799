// End-to-end: TrainQ installed from its VSIX into a real VS Code (code-server), driven through Chromium
// like a user: queue both fixture scripts from the command palette, watch them run, read a log, reload.
// Screenshots, the server's log, the editor's logs and the browser console land in test-output/e2e/.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { assertCodeServerInstalled, outputDir, packagedExtension, repoRoot, startCodeServer } from "./codeServer";
import type { CodeServer } from "./codeServer";
import {
  activeEditorText,
  acceptPrefilledSteps,
  chooseQuickPickPath,
  launchBrowser,
  openViewContainer,
  openWorkbench,
  reloadWindow,
  runCommand,
  runContextAction,
  screenshot,
  statusBarItem,
  treeRow,
  treeRows,
  viewPane,
  waitForEditorText,
  waitForStatusBarText,
  waitForTreeRow,
} from "./workbench";

const fixtureWorkspace = path.join(repoRoot, "test", "fixtures", "workspace");
const fakeGpuBin = path.join(repoRoot, "test", "fixtures", "bin");
const JOB_QUEUE = "Job Queue";
const SCRIPTS = [
  { pick: "train_mnist.py", label: "train_mnist.py" },
  { pick: "scripts/train_tiny.sh", label: "train_tiny.sh" },
];
const TERMINAL = new Set(["succeeded", "failed", "cancelled", "lost"]);

/** A fresh copy of the fixture workspace: the tests queue jobs in it and the extension writes state. */
function copyWorkspace(): string {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "trainq-ws-"));
  fs.cpSync(fixtureWorkspace, workspace, { recursive: true });
  return workspace;
}

/** Runs a step and leaves a screenshot named after it when it fails. */
async function withScreenshotOnFailure(page: () => Page | undefined, name: string, step: () => Promise<void>) {
  try {
    await step();
  } catch (error) {
    const current = page();
    if (current) await screenshot(current, `FAILED-${name}`).catch(() => undefined);
    throw error;
  }
}

function stateOf(description: string): string {
  return description.split(/\s/)[0] ?? "";
}

fs.rmSync(outputDir, { recursive: true, force: true });
fs.mkdirSync(outputDir, { recursive: true });

describe("code-server harness", { timeout: 240_000 }, () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let workspace: string | undefined;

  before(async () => {
    assertCodeServerInstalled();
    workspace = copyWorkspace();
    server = await startCodeServer({ workspace });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it("serves the workbench with the fixture workspace open", async () => {
    page = await openWorkbench(browser!, server!.workbenchUrl);
    await withScreenshotOnFailure(() => page, "harness", async () => {
      const explorerRow = page!.locator('.explorer-folders-view .monaco-list-row[aria-label="train_mnist.py"]');
      await explorerRow.waitFor({ state: "visible", timeout: 60_000 });
      await screenshot(page!, "harness-workbench");
    });
  });
});

describe("TrainQ in code-server", { timeout: 600_000 }, () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let workspace: string | undefined;

  before(async () => {
    assertCodeServerInstalled();
    const vsix = packagedExtension();
    workspace = copyWorkspace();
    server = await startCodeServer({
      workspace,
      install: [vsix],
      // The fake nvidia-smi reports four GPUs, so train_mnist.py (gpus=1) can be dispatched here.
      pathPrefix: [fakeGpuBin],
      settings: { "trainq.statusBar.pollSeconds": 1 },
    });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server.workbenchUrl);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it("activates and shows the Job Queue, the Hosts view and the status-bar item", async () => {
    await withScreenshotOnFailure(() => page, "activation", async () => {
      await openViewContainer(page!, "TrainQ");
      await viewPane(page!, JOB_QUEUE).waitFor({ state: "visible", timeout: 60_000 });
      await viewPane(page!, "Hosts").waitFor({ state: "visible" });
      // The fake nvidia-smi's four GPUs, under the local host.
      await waitForTreeRow(page!, "Hosts", (r) => /A100/.test(`${r.label} ${r.description}`), "a fake A100 GPU");
      await waitForStatusBarText(page!, /0 running · 0 queued/);
      await screenshot(page!, "trainq-empty-queue");
    });
  });

  it("queues both scripts through the command palette", async () => {
    await withScreenshotOnFailure(() => page, "queue", async () => {
      // Paused, the jobs stay queued long enough to be seen queued.
      await runCommand(page!, "TrainQ: Pause Dispatching");
      for (const script of SCRIPTS) {
        await runCommand(page!, "TrainQ: Queue Training Script…");
        await chooseQuickPickPath(page!, script.pick);
        await acceptPrefilledSteps(page!);
        await waitForTreeRow(page!, JOB_QUEUE, (r) => r.label === script.label && stateOf(r.description) === "queued", `${script.label} queued`);
      }
      const text = await waitForStatusBarText(page!, /0 running · 2 queued/);
      assert.match(text, /0 running · 2 queued/);
      await screenshot(page!, "queue-with-jobs");
    });
  });

  it("runs them: queued → running → succeeded, with the status bar counting along", async () => {
    await withScreenshotOnFailure(() => page, "run", async () => {
      await runCommand(page!, "TrainQ: Resume Dispatching");
      // Each script runs 2–3 s; polling every 100 ms records every state each job shows.
      const seen = new Map<string, string[]>(SCRIPTS.map((s) => [s.label, []]));
      const lastDescription = new Map<string, string>();
      const statusTexts = new Set<string>();
      let screenshotTaken = false;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        for (const row of await treeRows(page!, JOB_QUEUE)) {
          const states = seen.get(row.label);
          const state = stateOf(row.description);
          if (states && states.at(-1) !== state) states.push(state);
          if (states) lastDescription.set(row.label, row.description);
        }
        const status = await statusBarItem(page!, /running ·/).innerText().catch(() => "");
        statusTexts.add(status.replace(/\s+/g, " ").trim());
        if (!screenshotTaken && [...seen.values()].some((s) => s.at(-1) === "running")) {
          screenshotTaken = true;
          await screenshot(page!, "jobs-running");
        }
        if ([...seen.values()].every((s) => TERMINAL.has(s.at(-1) ?? ""))) break;
        await page!.waitForTimeout(100);
      }
      for (const [label, states] of seen) {
        const detail = `${label} went through ${states.join(" → ")}; last shown as "${lastDescription.get(label)}"`;
        assert.deepEqual(states, ["queued", "running", "succeeded"], detail);
      }
      assert.ok(
        [...statusTexts].some((t) => /[12] running/.test(t)),
        `the status bar never counted a running job: ${[...statusTexts].join(" | ")}`,
      );
      await waitForStatusBarText(page!, /0 running · 0 queued/);
      await screenshot(page!, "jobs-succeeded");
    });
  });

  it("focuses the Job Queue when the status-bar item is clicked", async () => {
    await withScreenshotOnFailure(() => page, "status-click", async () => {
      await runCommand(page!, "View: Show Explorer");
      await viewPane(page!, JOB_QUEUE).waitFor({ state: "hidden" });
      await statusBarItem(page!, /running ·/).click();
      await viewPane(page!, JOB_QUEUE).waitFor({ state: "visible" });
    });
  });

  it("opens a finished job's log as a read-only editor with the script's output", async () => {
    await withScreenshotOnFailure(() => page, "log", async () => {
      await runContextAction(page!, treeRow(page!, JOB_QUEUE, "train_mnist.py", "succeeded"), "Open Log");
      const text = await waitForEditorText(page!, /epoch 5 loss/);
      assert.match(text, /CUDA_VISIBLE_DEVICES=\d/, "the job was given a (fake) GPU");
      assert.match(text, /epoch 1 loss[\s\S]*epoch 5 loss/);
      await screenshot(page!, "log-editor");
      // Typing into a read-only editor changes nothing.
      await page!.locator(".part.editor .editor-group-container.active .monaco-editor .view-lines").first().click();
      await page!.keyboard.type("typed-into-the-log");
      await page!.waitForTimeout(500);
      assert.doesNotMatch(await activeEditorText(page!), /typed-into-the-log/);
    });
  });

  it("keeps the queue across a window reload", async () => {
    await withScreenshotOnFailure(() => page, "reload", async () => {
      await reloadWindow(page!);
      await openViewContainer(page!, "TrainQ");
      for (const script of SCRIPTS) {
        await waitForTreeRow(page!, JOB_QUEUE, (r) => r.label === script.label && stateOf(r.description) === "succeeded", `${script.label} succeeded after the reload`);
      }
      await waitForStatusBarText(page!, /0 running · 0 queued/);
      await screenshot(page!, "after-reload");
    });
  });
});
