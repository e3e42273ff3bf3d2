import { describe, expect, it } from 'vitest';

import {
  actionForKey,
  formatSliceCounter,
  isViewerKeyTarget,
  PAGE_STEP,
  targetSliceIndex,
  ZOOM_STEP,
  type KeyPress,
} from './keymap';

function press(key: string, modifiers: Partial<KeyPress> = {}): KeyPress {
  return { key, ctrlKey: false, metaKey: false, altKey: false, ...modifiers };
}

describe('actionForKey', () => {
  it.each([
    ['ArrowDown', { kind: 'scroll', delta: 1 }],
    ['ArrowUp', { kind: 'scroll', delta: -1 }],
    ['PageDown', { kind: 'scroll', delta: PAGE_STEP }],
    ['PageUp', { kind: 'scroll', delta: -PAGE_STEP }],
    ['Home', { kind: 'first' }],
    ['End', { kind: 'last' }],
    ['1', { kind: 'preset', preset: 'lung' }],
    ['2', { kind: 'preset', preset: 'mediastinum' }],
    ['3', { kind: 'preset', preset: 'bone' }],
    ['+', { kind: 'zoom', factor: ZOOM_STEP }],
    ['=', { kind: 'zoom', factor: ZOOM_STEP }],
    ['-', { kind: 'zoom', factor: 1 / ZOOM_STEP }],
    ['i', { kind: 'invert' }],
    ['I', { kind: 'invert' }],
    [' ', { kind: 'reset' }],
    ['r', { kind: 'reset' }],
  ])('maps %j', (key, expected) => {
    expect(actionForKey(press(key))).toEqual(expected);
  });

  it('ignores unbound keys', () => {
    expect(actionForKey(press('4'))).toBeNull();
    expect(actionForKey(press('x'))).toBeNull();
    expect(actionForKey(press('Enter'))).toBeNull();
  });

  it('leaves Ctrl, Meta and Alt combinations to the browser', () => {
    expect(actionForKey(press('-', { ctrlKey: true }))).toBeNull();
    expect(actionForKey(press('r', { metaKey: true }))).toBeNull();
    expect(actionForKey(press('Home', { altKey: true }))).toBeNull();
  });
});

describe('isViewerKeyTarget', () => {
  it('takes keys on the body and the viewer', () => {
    expect(isViewerKeyTarget({ tagName: 'BODY' }, 'ArrowDown')).toBe(true);
    expect(isViewerKeyTarget({ tagName: 'DIV' }, ' ')).toBe(true);
    expect(isViewerKeyTarget(null, '1')).toBe(true);
  });

  it('leaves form fields alone', () => {
    for (const tagName of ['INPUT', 'TEXTAREA', 'SELECT', 'input']) {
      expect(isViewerKeyTarget({ tagName }, '2')).toBe(false);
    }
  });

  it('leaves editable content alone', () => {
    expect(isViewerKeyTarget({ tagName: 'DIV', isContentEditable: true }, 'i')).toBe(false);
  });

  it('lets buttons keep space and Enter only', () => {
    expect(isViewerKeyTarget({ tagName: 'BUTTON' }, ' ')).toBe(false);
    expect(isViewerKeyTarget({ tagName: 'BUTTON' }, 'Enter')).toBe(false);
    expect(isViewerKeyTarget({ tagName: 'BUTTON' }, 'ArrowDown')).toBe(true);
  });
});

describe('targetSliceIndex', () => {
  it('steps and clamps at both ends', () => {
    expect(targetSliceIndex({ kind: 'scroll', delta: 1 }, 4, 10)).toBe(5);
    expect(targetSliceIndex({ kind: 'scroll', delta: 1 }, 9, 10)).toBe(9);
    expect(targetSliceIndex({ kind: 'scroll', delta: -1 }, 0, 10)).toBe(0);
    expect(targetSliceIndex({ kind: 'scroll', delta: PAGE_STEP }, 95, 100)).toBe(99);
    expect(targetSliceIndex({ kind: 'scroll', delta: -PAGE_STEP }, 3, 100)).toBe(0);
  });

  it('jumps to the first and last slice', () => {
    expect(targetSliceIndex({ kind: 'first' }, 57, 148)).toBe(0);
    expect(targetSliceIndex({ kind: 'last' }, 57, 148)).toBe(147);
  });

  it('keeps the index for other actions', () => {
    expect(targetSliceIndex({ kind: 'invert' }, 7, 10)).toBe(7);
  });

  it('returns 0 for an empty stack', () => {
    expect(targetSliceIndex({ kind: 'last' }, 0, 0)).toBe(0);
  });
});

describe('formatSliceCounter', () => {
  it('counts from one', () => {
    expect(formatSliceCounter(0, 148)).toBe('Slice 1 / 148');
    expect(formatSliceCounter(147, 148)).toBe('Slice 148 / 148');
  });
});
