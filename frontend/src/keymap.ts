/**
 * Keyboard shortcuts of the viewer, following OHIF's habits: arrow and page
 * keys move through slices, Home and End jump to the ends, number keys pick
 * window presets, `i` inverts and space resets.
 */

import { WINDOW_PRESETS, type PresetName } from './windowLevel';

/** Slices that PageUp and PageDown move. */
export const PAGE_STEP = 10;

/** Zoom factor of one `+` press. A `-` press divides by it. */
export const ZOOM_STEP = 1.25;

export type ViewerAction =
  | { kind: 'scroll'; delta: number }
  | { kind: 'first' }
  | { kind: 'last' }
  | { kind: 'preset'; preset: PresetName }
  | { kind: 'zoom'; factor: number }
  | { kind: 'invert' }
  | { kind: 'reset' };

/** The fields of a KeyboardEvent that the mapping reads. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** The fields of an event target that decide whether the viewer may take the key. */
export interface KeyTarget {
  tagName?: string;
  isContentEditable?: boolean;
}

const FORM_FIELD_TAGS = new Set(['INPUT', 'TEXTAREA', 'SELECT']);
const ACTIVATING_KEYS = new Set([' ', 'Enter']);
const CLICKABLE_TAGS = new Set(['BUTTON', 'A', 'SUMMARY']);

/**
 * Decides whether a key pressed while `target` has focus belongs to the viewer.
 *
 * Form fields keep every key, because the reader may be typing or moving
 * through radio buttons. Buttons and links keep space and Enter, which
 * activate them.
 */
export function isViewerKeyTarget(target: KeyTarget | null, key: string): boolean {
  if (target === null) {
    return true;
  }
  if (target.isContentEditable === true) {
    return false;
  }

  const tag = (target.tagName ?? '').toUpperCase();
  if (FORM_FIELD_TAGS.has(tag)) {
    return false;
  }
  return !(CLICKABLE_TAGS.has(tag) && ACTIVATING_KEYS.has(key));
}

/**
 * Maps a key press to a viewer action, or null for keys the viewer ignores.
 *
 * Presses with Ctrl, Meta or Alt are left to the browser (Ctrl+- zooms the
 * page, Alt+Home goes home). Shift is allowed because `+` needs it on many
 * layouts.
 */
export function actionForKey(press: KeyPress): ViewerAction | null {
  if (press.ctrlKey || press.metaKey || press.altKey) {
    return null;
  }

  const preset = WINDOW_PRESETS.find((candidate) => candidate.key === press.key);
  if (preset !== undefined) {
    return { kind: 'preset', preset: preset.name };
  }

  switch (press.key) {
    case 'ArrowDown':
      return { kind: 'scroll', delta: 1 };
    case 'ArrowUp':
      return { kind: 'scroll', delta: -1 };
    case 'PageDown':
      return { kind: 'scroll', delta: PAGE_STEP };
    case 'PageUp':
      return { kind: 'scroll', delta: -PAGE_STEP };
    case 'Home':
      return { kind: 'first' };
    case 'End':
      return { kind: 'last' };
    case '+':
    case '=':
      return { kind: 'zoom', factor: ZOOM_STEP };
    case '-':
    case '_':
      return { kind: 'zoom', factor: 1 / ZOOM_STEP };
    case 'i':
    case 'I':
      return { kind: 'invert' };
    case ' ':
    case 'r':
    case 'R':
      return { kind: 'reset' };
    default:
      return null;
  }
}

/**
 * Returns the slice index that a scroll, first or last action leads to,
 * clamped to 0..sliceCount-1. Other actions keep `current`.
 */
export function targetSliceIndex(action: ViewerAction, current: number, sliceCount: number): number {
  if (sliceCount <= 0) {
    return 0;
  }

  const last = sliceCount - 1;
  switch (action.kind) {
    case 'scroll':
      return Math.min(last, Math.max(0, current + action.delta));
    case 'first':
      return 0;
    case 'last':
      return last;
    default:
      return current;
  }
}

/** Formats the 1-based slice counter, e.g. "Slice 1 / 148". */
export function formatSliceCounter(index: number, sliceCount: number): string {
  return `Slice ${index + 1} / ${sliceCount}`;
}
