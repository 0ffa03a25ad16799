/**
 * The one page shell of TrainQ's webviews (the agent dashboard and the sweep panel): a strict Content
 * Security Policy (nothing but this extension's own files, and only the script carrying this page's
 * nonce runs), the stylesheet, an empty #app for the page script to fill.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function webviewPage(webview: vscode.Webview, root: vscode.Uri, files: { script: string; style: string; title: string }): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, files.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, files.style));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${files.title}</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
