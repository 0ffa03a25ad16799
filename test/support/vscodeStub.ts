/**
 * A `vscode` module for running TrainQ (the bundle or single UI modules) in plain Node, for benchmarks
 * and for unit tests of UI classes.
 * It does no work of its own, so time measured through it is the extension's. Namespaces and the
 * objects it hands out throw when the code reads a member the stub lacks, naming it (and listing it
 * in `misses`), so a new API use shows up as one clear error instead of `undefined is not a function`.
 */
import * as fs from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';

type Listener<T> = (value: T) => unknown;

class Disposable {
  static from(...items: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => items.forEach((d) => d.dispose()));
  }
  constructor(private readonly callOnDispose: () => unknown) {}
  dispose(): void {
    this.callOnDispose();
  }
}

class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>, thisArgs?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = thisArgs === undefined ? listener : listener.bind(thisArgs);
    this.listeners.add(bound);
    const d = new Disposable(() => this.listeners.delete(bound));
    disposables?.push(d);
    return d;
  };
  fire(value: T): void {
    [...this.listeners].forEach((l) => l(value));
  }
  dispose(): void {
    this.listeners.clear();
  }
}

interface UriParts {
  scheme: string;
  authority?: string;
  path?: string;
  query?: string;
  fragment?: string;
}

class Uri {
  static file(fsPath: string): Uri {
    return new Uri({ scheme: 'file', path: fsPath });
  }
  static from(parts: UriParts): Uri {
    return new Uri(parts);
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return base.with({ path: path.posix.join(base.path, ...segments) });
  }
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  readonly fragment: string;
  private constructor(parts: UriParts) {
    this.scheme = parts.scheme;
    this.authority = parts.authority ?? '';
    this.path = parts.path ?? '';
    this.query = parts.query ?? '';
    this.fragment = parts.fragment ?? '';
  }
  get fsPath(): string {
    return this.path;
  }
  with(change: Partial<UriParts>): Uri {
    return new Uri({ ...this, ...change });
  }
  toString(): string {
    const query = this.query ? `?${this.query}` : '';
    const fragment = this.fragment ? `#${this.fragment}` : '';
    return `${this.scheme}://${this.authority}${this.path}${query}${fragment}`;
  }
}

class ThemeColor {
  constructor(readonly id: string) {}
}

class ThemeIcon {
  static readonly File = new ThemeIcon('file');
  static readonly Folder = new ThemeIcon('folder');
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

class MarkdownString {
  isTrusted: boolean | undefined;
  supportHtml = false;
  constructor(
    public value = '',
    public supportThemeIcons = false,
  ) {}
  appendMarkdown(value: string): this {
    this.value += value;
    return this;
  }
  appendText(value: string): this {
    this.value += value.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&');
    return this;
  }
  appendCodeblock(value: string, language = ''): this {
    this.value += `\n\`\`\`${language}\n${value}\n\`\`\`\n`;
    return this;
  }
}

const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 } as const;

class TreeItem {
  label?: string;
  resourceUri?: Uri;
  constructor(
    labelOrUri: string | Uri,
    public collapsibleState: number = TreeItemCollapsibleState.None,
  ) {
    if (typeof labelOrUri === 'string') {
      this.label = labelOrUri;
    } else {
      this.resourceUri = labelOrUri;
    }
  }
}

class DataTransferItem {
  constructor(readonly value: unknown) {}
  async asString(): Promise<string> {
    return typeof this.value === 'string' ? this.value : JSON.stringify(this.value);
  }
}

class DataTransfer {
  private readonly items = new Map<string, DataTransferItem>();
  get(mimeType: string): DataTransferItem | undefined {
    return this.items.get(mimeType.toLowerCase());
  }
  set(mimeType: string, value: DataTransferItem): void {
    this.items.set(mimeType.toLowerCase(), value);
  }
}

/** Keys any object answers for (module interop, promises, printing); never reported as missing. */
const PASS_THROUGH = new Set(['then', '__esModule', 'toJSON', 'asymmetricMatch', 'nodeType', '$$typeof']);

/** Something the bundle read on an object whose prototype is `strictPrototype`. */
export class StubMissingError extends Error {}

/**
 * Puts a throwing Proxy at the end of `obj`'s prototype chain, so reading any member `obj` lacks
 * throws. esbuild's `__toESM` copies the module onto an object with the same prototype, so even
 * `vscode.Foo` on the bundle's namespace copy reaches this trap.
 */
function strict<T extends object>(name: string, obj: T, misses: string[]): T {
  const trap = new Proxy(Object.create(null) as object, {
    get(_target, key) {
      if (typeof key === 'symbol' || key in Object.prototype) {
        return (Object.prototype as Record<string | symbol, unknown>)[key];
      }
      if (PASS_THROUGH.has(key)) {
        return undefined;
      }
      const member = `${name}.${key}`;
      misses.push(member);
      throw new StubMissingError(`vscode stub: ${member} is not implemented (add it to scripts/bench/vscodeStub.ts)`);
    },
  });
  return Object.setPrototypeOf(obj, trap) as T;
}

export interface LogLine {
  level: string;
  message: string;
}

export interface VscodeStubOptions {
  /** The extension's package.json: `contributes.configuration` supplies setting defaults. */
  packageJsonPath: string;
  focused?: boolean;
  trusted?: boolean;
  /** Keep log lines (up to 1,000) for inspection; off by default so logging stays free. */
  keepLog?: boolean;
}

export interface StatusBarItemStub {
  readonly id: string | undefined;
  text: string;
  /** How many times `text` was assigned. */
  textSets: number;
}

export interface TreeViewStub {
  readonly id: string;
  readonly options: { treeDataProvider: unknown };
  visible: boolean;
  message: string | undefined;
}

export interface VscodeStub {
  /** What `require('vscode')` returns. */
  readonly api: Record<string, unknown>;
  /** Members read but not implemented, in order; the benchmark fails when this is not empty. */
  readonly misses: string[];
  /** `trainq.*` settings read that package.json does not declare. */
  readonly undeclaredSettings: Set<string>;
  readonly log: LogLine[];
  readonly messages: string[];
  readonly commands: Map<string, (...args: unknown[]) => unknown>;
  readonly treeViews: Map<string, TreeViewStub>;
  readonly statusBarItems: StatusBarItemStub[];
  /**
   * Overrides settings (full keys such as `trainq.finishedHistory`) in user settings, or in workspace
   * settings (which win, as in VS Code), and fires onDidChangeConfiguration.
   */
  setConfiguration(values: Record<string, unknown>, scope?: 'user' | 'workspace'): void;
  setFocused(focused: boolean): void;
  extensionContext(opts: { storageDir?: string; globalStorageDir: string; extensionDir: string }): Record<string, unknown>;
}

function settingDefaults(packageJsonPath: string): Map<string, unknown> {
  const pkg = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')) as {
    contributes?: { configuration?: unknown };
  };
  const sections = [pkg.contributes?.configuration ?? []].flat() as Array<{ properties?: Record<string, { default?: unknown }> }>;
  const defaults = new Map<string, unknown>();
  for (const section of sections) {
    for (const [key, schema] of Object.entries(section.properties ?? {})) {
      defaults.set(key, schema.default);
    }
  }
  return defaults;
}

export function createVscodeStub(opts: VscodeStubOptions): VscodeStub {
  const misses: string[] = [];
  const undeclaredSettings = new Set<string>();
  const log: LogLine[] = [];
  const messages: string[] = [];
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const treeViews = new Map<string, TreeViewStub>();
  const statusBarItems: StatusBarItemStub[] = [];
  const defaults = settingDefaults(opts.packageJsonPath);
  const overrides = new Map<string, unknown>();
  const workspaceOverrides = new Map<string, unknown>();
  let focused = opts.focused ?? true;
  const trusted = opts.trusted ?? true;

  const configChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
  const windowStateChanged = new EventEmitter<{ focused: boolean; active: boolean }>();
  const never = <T>() => new EventEmitter<T>().event;
  const noop = () => undefined;
  const resolved = () => Promise.resolve(undefined);
  const disposable = () => new Disposable(noop);

  const getConfiguration = (section?: string) => {
    const full = (key: string) => (section ? `${section}.${key}` : key);
    return strict(
      `WorkspaceConfiguration(${section ?? ''})`,
      {
        get(key: string, fallback?: unknown) {
          const k = full(key);
          if (k.startsWith('trainq.') && !defaults.has(k)) {
            undeclaredSettings.add(k);
          }
          const set = workspaceOverrides.has(k) ? workspaceOverrides : overrides;
          const value = set.has(k) ? set.get(k) : defaults.has(k) ? defaults.get(k) : fallback;
          return value === undefined ? fallback : structuredClone(value);
        },
        has: (key: string) => workspaceOverrides.has(full(key)) || overrides.has(full(key)) || defaults.has(full(key)),
        inspect: (key: string) => ({
          key: full(key),
          defaultValue: defaults.get(full(key)),
          globalValue: structuredClone(overrides.get(full(key))),
          workspaceValue: structuredClone(workspaceOverrides.get(full(key))),
        }),
        // ConfigurationTarget.Workspace is 2; Global (1), true and undefined all mean user settings here.
        update: async (key: string, value: unknown, target?: unknown) =>
          api.__setConfiguration({ [full(key)]: value }, target === 2 ? 'workspace' : 'user'),
      },
      misses,
    );
  };

  const logChannel = (name: string) => {
    const line = (level: string) => (message: unknown) => {
      if (opts.keepLog && log.length < 1000) {
        log.push({ level, message: String(message) });
      }
    };
    return strict(
      `LogOutputChannel(${name})`,
      {
        name,
        logLevel: 3,
        onDidChangeLogLevel: never<number>(),
        trace: line('trace'),
        debug: line('debug'),
        info: line('info'),
        warn: line('warn'),
        error: line('error'),
        append: noop,
        appendLine: noop,
        replace: noop,
        clear: noop,
        show: noop,
        hide: noop,
        dispose: noop,
      },
      misses,
    );
  };

  const createTreeView = (id: string, options: { treeDataProvider: unknown }) => {
    const view = strict(
      `TreeView(${id})`,
      {
        id,
        options,
        visible: false,
        message: undefined as string | undefined,
        title: undefined as string | undefined,
        description: undefined as string | undefined,
        badge: undefined as unknown,
        selection: [] as unknown[],
        onDidChangeVisibility: never<{ visible: boolean }>(),
        onDidChangeSelection: never<{ selection: unknown[] }>(),
        onDidExpandElement: never<unknown>(),
        onDidCollapseElement: never<unknown>(),
        onDidChangeCheckboxState: never<unknown>(),
        reveal: resolved,
        dispose: () => treeViews.delete(id),
      },
      misses,
    );
    treeViews.set(id, view);
    return view;
  };

  const createStatusBarItem = (id?: unknown) => {
    let text = '';
    const item = strict(
      `StatusBarItem(${String(id)})`,
      {
        id: typeof id === 'string' ? id : undefined,
        textSets: 0,
        get text() {
          return text;
        },
        set text(value: string) {
          text = value;
          item.textSets += 1;
        },
        name: undefined as string | undefined,
        tooltip: undefined as unknown,
        command: undefined as unknown,
        color: undefined as unknown,
        backgroundColor: undefined as unknown,
        accessibilityInformation: undefined as unknown,
        show: noop,
        hide: noop,
        dispose: noop,
      },
      misses,
    );
    statusBarItems.push(item);
    return item;
  };

  const showMessage = (message: string) => {
    messages.push(message);
    return Promise.resolve(undefined);
  };

  const window = strict(
    'window',
    {
      get state() {
        return { focused, active: focused };
      },
      onDidChangeWindowState: windowStateChanged.event,
      activeTextEditor: undefined,
      visibleTextEditors: [],
      createOutputChannel: (name: string, options?: { log?: boolean }) =>
        options?.log ? logChannel(name) : strict(`OutputChannel(${name})`, {}, misses),
      createTreeView,
      createStatusBarItem,
      showInformationMessage: showMessage,
      showWarningMessage: showMessage,
      showErrorMessage: showMessage,
      setStatusBarMessage: disposable,
      // Restoring webview panels after a reload: registered at activation, never called here.
      registerWebviewPanelSerializer: disposable,
    },
    misses,
  );

  const workspace = strict(
    'workspace',
    {
      get isTrusted() {
        return trusted;
      },
      workspaceFolders: undefined,
      getConfiguration,
      onDidChangeConfiguration: configChanged.event,
      onDidGrantWorkspaceTrust: never<void>(),
      onDidCloseTextDocument: never<unknown>(),
      onDidChangeTextDocument: never<unknown>(),
      registerTextDocumentContentProvider: disposable,
    },
    misses,
  );

  const commandsNs = strict(
    'commands',
    {
      registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
        if (commands.has(id)) {
          throw new Error(`command '${id}' already exists`);
        }
        commands.set(id, handler);
        return new Disposable(() => commands.delete(id));
      },
      executeCommand: async (id: string, ...args: unknown[]) => commands.get(id)?.(...args),
    },
    misses,
  );

  const api: Record<string, unknown> & { __setConfiguration(values: Record<string, unknown>, scope?: 'user' | 'workspace'): void } = strict(
    'vscode',
    {
      Disposable,
      EventEmitter,
      Uri,
      ThemeColor,
      ThemeIcon,
      MarkdownString,
      TreeItem,
      TreeItemCollapsibleState,
      DataTransfer,
      DataTransferItem,
      StatusBarAlignment: { Left: 1, Right: 2 },
      ExtensionMode: { Production: 1, Development: 2, Test: 3 },
      ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
      LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
      window,
      workspace,
      commands: commandsNs,
      extensions: strict('extensions', { getExtension: () => undefined, all: [] }, misses),
      l10n: strict(
        'l10n',
        { t: (message: string, ...args: unknown[]) => message.replace(/\{(\d+)\}/g, (m, i: string) => String(args[Number(i)] ?? m)) },
        misses,
      ),
      __setConfiguration(values: Record<string, unknown>, scope: 'user' | 'workspace' = 'user') {
        const keys = Object.keys(values);
        const set = scope === 'workspace' ? workspaceOverrides : overrides;
        // VS Code removes a setting written as undefined, so the next scope down shows through.
        keys.forEach((k) => (values[k] === undefined ? set.delete(k) : set.set(k, values[k])));
        configChanged.fire({ affectsConfiguration: (s: string) => keys.some((k) => k === s || k.startsWith(`${s}.`)) });
      },
    },
    misses,
  );

  const memento = (name: string) => {
    const values = new Map<string, unknown>();
    return strict(
      `Memento(${name})`,
      {
        keys: () => [...values.keys()],
        get: (key: string, fallback?: unknown) => (values.has(key) ? values.get(key) : fallback),
        update: async (key: string, value: unknown) => void (value === undefined ? values.delete(key) : values.set(key, value)),
        setKeysForSync: noop,
      },
      misses,
    );
  };

  return {
    api,
    misses,
    undeclaredSettings,
    log,
    messages,
    commands,
    treeViews,
    statusBarItems,
    setConfiguration: (values, scope) => api.__setConfiguration(values, scope),
    setFocused(value) {
      if (value !== focused) {
        focused = value;
        windowStateChanged.fire({ focused, active: focused });
      }
    },
    extensionContext({ storageDir, globalStorageDir, extensionDir }) {
      const extensionUri = Uri.file(extensionDir);
      return strict(
        'ExtensionContext',
        {
          subscriptions: [] as Array<{ dispose(): unknown }>,
          storageUri: storageDir === undefined ? undefined : Uri.file(storageDir),
          globalStorageUri: Uri.file(globalStorageDir),
          logUri: Uri.file(path.join(globalStorageDir, 'logs')),
          extensionUri,
          extensionPath: extensionDir,
          extensionMode: 1,
          workspaceState: memento('workspaceState'),
          globalState: memento('globalState'),
          asAbsolutePath: (relative: string) => path.join(extensionDir, relative),
        },
        misses,
      );
    },
  };
}

/** Module id under which the stub sits in the require cache. */
const STUB_ID = path.join(__dirname, '__vscode_stub__.js');

interface ModuleInternals {
  _resolveFilename(request: string, ...rest: unknown[]): string;
}

/**
 * Makes `require('vscode')` return the stub (CommonJS only: the bundle and tsx-compiled sources).
 * Returns a function that undoes it.
 */
export function installVscodeStub(stub: VscodeStub): () => void {
  const Module = nodeModule.Module as unknown as ModuleInternals & typeof nodeModule.Module;
  const original = Module._resolveFilename;
  Module._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === 'vscode' ? STUB_ID : original.call(this, request, ...rest);
  };
  const cached = new Module(STUB_ID);
  cached.filename = STUB_ID;
  cached.loaded = true;
  cached.exports = stub.api;
  require.cache[STUB_ID] = cached;
  return () => {
    Module._resolveFilename = original;
    delete require.cache[STUB_ID];
  };
}
