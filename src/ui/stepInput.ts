/**
 * A small multi-step input (numbered steps, Back button, inline validation) over VS Code's
 * InputBox and QuickPick, in the spirit of the multi-step sample in vscode-extension-samples.
 */
import * as vscode from 'vscode';

export class InputCancelled extends Error {}
class GoBack extends Error {}

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
  constructor(private readonly title: string, private readonly totalSteps: number) {}

  /**
   * Runs the steps in order; Back re-runs the previous one with its last answer.
   * `steps` is a function of the answers so far, so later prompts can reflect earlier ones.
   */
  async run(steps: (answers: unknown[]) => Array<TextStep | PickStep<unknown>>): Promise<unknown[]> {
    const answers: unknown[] = [];
    let index = 0;
    while (index < this.totalSteps) {
      const step = steps(answers)[index];
      try {
        answers[index] = step.kind === 'text' ? await this.text(step, index) : await this.pick(step, index);
        index += 1;
      } catch (e) {
        if (e instanceof GoBack) {
          index = Math.max(0, index - 1);
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
      buttons: index > 0 ? [vscode.QuickInputButtons.Back] : [],
    });
    box.validationMessage = step.validate(step.value);
    return this.show(box, (resolve) => [
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
      buttons: index > 0 ? [vscode.QuickInputButtons.Back] : [],
    });
    const active = step.items.find((i) => i.value === step.active);
    if (active) {
      qp.activeItems = [active];
    }
    return this.show(qp, (resolve) => [
      qp.onDidAccept(() => {
        const chosen = qp.selectedItems[0] ?? qp.activeItems[0];
        if (chosen) {
          resolve(chosen.value);
        }
      }),
    ]);
  }

  private show<R>(
    input: vscode.InputBox | vscode.QuickPick<vscode.QuickPickItem>,
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
        input.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && done(() => reject(new GoBack()))),
        input.onDidHide(() => !settled && done(() => reject(new InputCancelled()))),
      ];
      input.show();
    });
  }
}
