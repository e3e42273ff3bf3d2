import { describe, expect, it } from 'vitest';

import {
  findPresetForVoi,
  formatVoiAttribute,
  formatWindowReadout,
  getPreset,
  isPresetName,
  voiFromWindow,
  WINDOW_PRESETS,
  windowFromVoi,
} from './windowLevel';

describe('voiFromWindow', () => {
  // Ranges worked out by hand from lower = L - W/2 and upper = L + W/2.
  it.each([
    ['lung', -1350, 150],
    ['mediastinum', -135, 215],
    ['bone', -500, 1500],
  ] as const)('converts the %s preset', (name, lower, upper) => {
    const voi = voiFromWindow(getPreset(name));

    expect(voi.lower).toBe(lower);
    expect(voi.upper).toBe(upper);
  });

  it('round-trips through windowFromVoi', () => {
    const window = windowFromVoi(voiFromWindow({ width: 437, level: -12.5 }));

    expect(window.width).toBe(437);
    expect(window.level).toBe(-12.5);
  });
});

describe('presets', () => {
  it('keep toolbar order and number keys', () => {
    expect(WINDOW_PRESETS.map((preset) => preset.name)).toEqual(['lung', 'mediastinum', 'bone']);
    expect(WINDOW_PRESETS.map((preset) => preset.key)).toEqual(['1', '2', '3']);
  });

  it('carry the published windows', () => {
    expect(getPreset('lung')).toMatchObject({ width: 1500, level: -600 });
    expect(getPreset('mediastinum')).toMatchObject({ width: 350, level: 40 });
    expect(getPreset('bone')).toMatchObject({ width: 2000, level: 500 });
  });

  it('recognise only known names', () => {
    expect(isPresetName('lung')).toBe(true);
    expect(isPresetName('brain')).toBe(false);
    expect(isPresetName(3)).toBe(false);
  });

  it('are found from their VOI range', () => {
    expect(findPresetForVoi({ lower: -135, upper: 215 })?.name).toBe('mediastinum');
    expect(findPresetForVoi({ lower: -1350.2, upper: 150.3 })?.name).toBe('lung');
    expect(findPresetForVoi({ lower: -1300, upper: 150 })).toBeUndefined();
  });
});

describe('formatWindowReadout', () => {
  it('shows width and level of the lung window', () => {
    expect(formatWindowReadout({ lower: -1350, upper: 150 })).toBe('W 1500 / L -600');
  });

  it('shows the mediastinum window', () => {
    expect(formatWindowReadout({ lower: -135, upper: 215 })).toBe('W 350 / L 40');
  });

  it('rounds fractional windows from dragging', () => {
    expect(formatWindowReadout({ lower: -100.4, upper: 99.9 })).toBe('W 200 / L 0');
  });
});

describe('formatVoiAttribute', () => {
  it('joins lower and upper with a comma', () => {
    expect(formatVoiAttribute({ lower: -1350, upper: 150 })).toBe('-1350,150');
  });

  it('keeps two decimals at most', () => {
    expect(formatVoiAttribute({ lower: -0.001, upper: 12.3456 })).toBe('0,12.35');
  });
});
