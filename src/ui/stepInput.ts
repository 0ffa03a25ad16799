/**
 * A small multi-step input (numbered steps, Back button, inline validation) over VS Code's
 * InputBox and QuickPick, in the spirit of the multi-step sample in vscode-extension-samples.
 */
import * as vscode from 'vscode';

export class InputCancelled extends Error {}

/** An input box's inline validation from a check that throws: its message, or undefined when it passes. */
export function validationMessage(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
class GoBack extends Error {}
/** The Options button was pressed on a step: `value` is what the step held, shown again afterwards. */
class Detour extends Error {
  constructor(readonly value: unknown) {
    super('detour');
  }
}

/** A button on every step that opens optional settings and comes back to the same step. */
export interface StepDetour {
  tooltip: string;
  /** Runs the optional steps; its own cancel returns to the step (it must not throw InputCancelled). */
  run(): Promise<void>;
}

export interface TextStep {
  kind: 'text';
  prompt: string;
  placeholder?: string;
  value: string;
  /** Returns an error message, or undefined when the value is acceptable. */
  validate(value: string): string | undefined;
}

export interface PickStep<T> {
  kind: 'pick';
  placeholder: string;
  items: Array<vscode.QuickPickItem & { value: T }>;
  active?: T;
}

export class StepInput {
  private readonly detourButton: vscode.QuickInputButton | undefined;

  constructor(
    private readonly title: string,
    private readonly totalSteps: number,
    private readonly detour?: StepDetour,
  ) {
    this.detourButton = detour && { iconPath: new vscode.ThemeIcon('settings-gear'), tooltip: detour.tooltip };
  }

  /**
   * Runs the steps in order; Back re-runs the previous one with its last answer.
   * `steps` is a function of the answers so far, so later prompts can reflect earlier ones.
   */
  async run(steps: (answers: unknown[]) => Array<TextStep | PickStep<unknown>>): Promise<unknown[]> {
    const answers: unknown[] = [];
    // What a step held when the Options button left it, so it comes back as it was.
    const held = new Map<number, unknown>();
    let index = 0;
    while (index < this.totalSteps) {
      const step = withHeld(steps(answers)[index], held, index);
      try {
        answers[index] = step.kind === 'text' ? await this.text(step, index) : await this.pick(step, index);
        held.delete(index);
        index += 1;
      } catch (e) {
        if (e instanceof GoBack) {
          index = Math.max(0, index - 1);
          continue;
        }
        if (e instanceof Detour && this.detour) {
          held.set(index, e.value);
          await this.detour.run();
          continue;
        }
        throw e;
      }
    }
    return answers;
  }

  private text(step: TextStep, index: number): Promise<string> {
    const box = vscode.window.createInputBox();
    Object.assign(box, {
      title: this.title,
      step: index + 1,
      totalSteps: this.totalSteps,
      prompt: step.prompt,
      placeholder: step.placeholder,
      value: step.value,
      ignoreFocusOut: true,
      buttons: this.buttons(index),
    });
    box.validationMessage = step.validate(step.value);
    return this.show(box, () => box.value, (resolve) => [
      box.onDidChangeValue((v) => (box.validationMessage = step.validate(v))),
      box.onDidAccept(() => {
        const error = step.validate(box.value);
        box.validationMessage = error;
        if (!error) {
          resolve(box.value);
        }
      }),
    ]);
  }

  private pick<T>(step: PickStep<T>, index: number): Promise<T> {
    const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { value: T }>();
    Object.assign(qp, {
      title: this.title,
      step: index + 1,
      totalSteps: this.totalSteps,
      placeholder: step.placeholder,
      items: step.items,
      ignoreFocusOut: true,
      buttons: this.buttons(index),
    });
    const active = step.items.find((i) => i.value === step.active);
    if (active) {
      qp.activeItems = [active];
    }
    return this.show(qp, () => qp.activeItems[0]?.value, (resolve) => [
      qp.onDidAccept(() => {
        const chosen = qp.selectedItems[0] ?? qp.activeItems[0];
        if (chosen) {
          resolve(chosen.value);
        }
      }),
    ]);
  }

  private buttons(index: number): vscode.QuickInputButton[] {
    return [...(index > 0 ? [vscode.QuickInputButtons.Back] : []), ...(this.detourButton ? [this.detourButton] : [])];
  }

  private show<R>(
    input: vscode.InputBox | vscode.QuickPick<vscode.QuickPickItem>,
    /** What the step holds now, kept when the Options button leaves it. */
    current: () => unknown,
    listen: (resolve: (value: R) => void) => vscode.Disposable[],
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const done = (fn: () => void) => {
        settled = true;
        disposables.forEach((d) => d.dispose());
        input.dispose();
        fn();
      };
      const disposables = [
        ...listen((value) => done(() => resolve(value))),
        input.onDidTriggerButton((b) => {
          if (b === vscode.QuickInputButtons.Back) {
            done(() => reject(new GoBack()));
          } else if (b === this.detourButton) {
            const value = current();
            done(() => reject(new Detour(value)));
          }
        }),
        input.onDidHide(() => !settled && done(() => reject(new InputCancelled()))),
      ];
      input.show();
    });
  }
}

function withHeld(step: TextStep | PickStep<unknown>, held: ReadonlyMap<number, unknown>, index: number): TextStep | PickStep<unknown> {
  if (!held.has(index)) {
    return step;
  }
  return step.kind === 'text' ? { ...step, value: String(held.get(index)) } : { ...step, active: held.get(index) };
}
