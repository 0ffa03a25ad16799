import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCodeServer, repoRoot } from "./codeServer";
import { launchBrowser, openWorkbench, screenshot } from "./workbench";
(async () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "ws-"));
  fs.cpSync(path.join(repoRoot, "test/fixtures/workspace"), ws, { recursive: true });
  const t0 = Date.now();
  const server = await startCodeServer({ workspace: ws });
  console.log("server up", Date.now() - t0, server.workbenchUrl);
  const browser = await launchBrowser();
  try {
    const page = await openWorkbench(browser, server.workbenchUrl);
    console.log("workbench", Date.now() - t0);
    await page.waitForTimeout(5000);
    await screenshot(page, "scratch");
    fs.writeFileSync("/tmp/e2escratch/dom.html", await page.content());
  } finally {
    await browser.close();
    await server.stop();
    console.log("stopped", Date.now() - t0);
  }
})();
