/**
 * Toolbar buttons in #viewer-toolbar: one per window preset
 * (`button[data-preset="lung"]` ...), then invert and reset
 * (`button[data-action="invert"]`, `button[data-action="reset"]`).
 */

import type { ViewerAction } from './keymap';
import { WINDOW_PRESETS, type PresetName } from './windowLevel';

function makeButton(text: string, title: string): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = text;
  button.title = title;
  return button;
}

/**
 * Fills `container` with the toolbar buttons and calls `onAction` on a click.
 *
 * @returns The preset buttons, for marking the active one.
 */
export function buildToolbar(
  container: HTMLElement,
  onAction: (action: ViewerAction) => void,
): Map<PresetName, HTMLButtonElement> {
  container.replaceChildren();
  container.setAttribute('role', 'toolbar');
  container.setAttribute('aria-label', 'CT viewer');

  const presetButtons = new Map<PresetName, HTMLButtonElement>();
  for (const preset of WINDOW_PRESETS) {
    const button = makeButton(
      `${preset.label} (${preset.key})`,
      `${preset.label} window: W ${preset.width} / L ${preset.level}. Key ${preset.key}.`,
    );
    button.dataset['preset'] = preset.name;
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => {
      onAction({ kind: 'preset', preset: preset.name });
    });
    container.append(button);
    presetButtons.set(preset.name, button);
  }

  const invert = makeButton('Invert (I)', 'Invert grey levels. Key I.');
  invert.dataset['action'] = 'invert';
  invert.addEventListener('click', () => {
    onAction({ kind: 'invert' });
  });

  const reset = makeButton('Reset (Space)', 'Reset zoom, pan, window and inversion. Key Space or R.');
  reset.dataset['action'] = 'reset';
  reset.addEventListener('click', () => {
    onAction({ kind: 'reset' });
  });

  container.append(invert, reset);
  return presetButtons;
}

/** Marks the button of `active` as pressed and the others as not pressed. With undefined, none is pressed. */
export function markActivePreset(
  buttons: Map<PresetName, HTMLButtonElement>,
  active: PresetName | undefined,
): void {
  for (const [name, button] of buttons) {
    button.setAttribute('aria-pressed', String(name === active));
  }
}
