/**
 * TrainQ's one log: a LogOutputChannel (levels chosen by the user in the Output view),
 * exposed to editor-free code through core's Logger interface.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';

export function createLog(): { channel: vscode.LogOutputChannel; logger: Logger } {
  const channel = vscode.window.createOutputChannel('TrainQ', { log: true });
  const logger: Logger = {
    trace: (m, ...a) => channel.trace(m, ...a),
    debug: (m, ...a) => channel.debug(m, ...a),
    info: (m, ...a) => channel.info(m, ...a),
    warn: (m, ...a) => channel.warn(m, ...a),
    error: (m, ...a) => channel.error(m, ...a),
  };
  return { channel, logger };
}
