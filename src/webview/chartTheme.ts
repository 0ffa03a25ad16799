/**
 * Chart colours and fonts from VS Code's theme variables. Canvas drawing can't use var(), so the values
 * are read with getComputedStyle and read again when the user switches themes.
 */

export interface ChartTheme {
  foreground: string;
  grid: string;
  font: string;
  /** Line width in CSS pixels: thicker in high-contrast themes. */
  lineWidth: number;
  /** Opacity of a line drawn under another (raw rewards under their average); stronger in high-contrast themes. */
  faintAlpha: number;
  colors: {
    blue: string;
    orange: string;
    green: string;
    purple: string;
  };
}

// Used only outside VS Code (a test page in a plain browser), where the variables are not defined.
const FALLBACKS: Record<string, string> = {
  '--vscode-foreground': '#cccccc',
  '--vscode-charts-lines': '#808080',
  '--vscode-editorWidget-border': '#454545',
  '--vscode-font-family': 'system-ui, sans-serif',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-purple': '#b180d7',
};

const HIGH_CONTRAST_CLASSES = ['vscode-high-contrast', 'vscode-high-contrast-light'];

export function readChartTheme(): ChartTheme {
  // VS Code sets the variables on <html>; body also sees them through inheritance.
  const style = getComputedStyle(document.documentElement);
  const read = (name: string): string => style.getPropertyValue(name).trim() || FALLBACKS[name];
  const highContrast = HIGH_CONTRAST_CLASSES.some((c) => document.body.classList.contains(c));
  return {
    foreground: read('--vscode-foreground'),
    // charts-lines is the theme's own colour for chart grid lines; the widget border is a close second.
    grid: style.getPropertyValue('--vscode-charts-lines').trim() || read('--vscode-editorWidget-border'),
    font: `11px ${read('--vscode-font-family')}`,
    lineWidth: highContrast ? 2.5 : 2,
    faintAlpha: highContrast ? 0.6 : 0.35,
    colors: {
      blue: read('--vscode-charts-blue'),
      orange: read('--vscode-charts-orange'),
      green: read('--vscode-charts-green'),
      purple: read('--vscode-charts-purple'),
    },
  };
}

/**
 * Calls `onChange` once per theme switch. VS Code swaps the body's theme class and rewrites the
 * variables in <html>'s style attribute; both are watched, and the change is handled on the next frame
 * so that the two mutations are seen as one and the new variables are in place when they are read.
 * Other changes to these attributes (font size, colour customisations) redraw too, which is what they need.
 */
export function watchTheme(onChange: () => void): () => void {
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) {
      return;
    }
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => observer.disconnect();
}

/**
 * `color` at the given opacity, for hex colours (#rgb, #rrggbb, #rrggbbaa: what VS Code's theme
 * variables hold); any other colour is returned as it is.
 */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(color.trim())?.[1];
  if (!hex) {
    return color;
  }
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16));
  const own = full.length === 8 ? parseInt(full.slice(6, 8), 16) / 255 : 1;
  return `rgba(${r}, ${g}, ${b}, ${Number((own * alpha).toFixed(3))})`;
}
