import { describe, expect, it } from 'vitest';

import {
  HeatmapConfigError,
  nextSelectedIndex,
  objectUidFromImageId,
  parseHeatmapConfig,
  transformFromCorners,
} from './overlay';

const slice = { rank: 1, instanceIndex: 20, sopInstanceUid: '1.2.3', url: '/h/20.png', probability: 0.7 };

describe('parseHeatmapConfig', () => {
  it('keeps valid slices and clamps the opacity', () => {
    const config = parseHeatmapConfig({ slices: [slice], colormap: 'jet', colorbar: ['#000080'], opacity: 3 });
    expect(config.slices).toEqual([slice]);
    expect(config.opacity).toBe(1);
    expect(config.colorbar).toEqual(['#000080']);
  });

  it('rejects a slice without a URL', () => {
    expect(() => parseHeatmapConfig({ slices: [{ ...slice, url: '' }] })).toThrow(HeatmapConfigError);
  });

  it('rejects a missing slices array', () => {
    expect(() => parseHeatmapConfig({})).toThrow(/"slices" array/);
  });
});

describe('objectUidFromImageId', () => {
  it('reads objectUID from a WADO-URI image id', () => {
    const id = 'wadouri:http://h/imaging/wado?requestType=WADO&studyUID=1&seriesUID=2&objectUID=2.25.9&contentType=application%2Fdicom';
    expect(objectUidFromImageId(id)).toBe('2.25.9');
  });

  it('returns null without a query', () => {
    expect(objectUidFromImageId('wadouri:http://h/x.dcm')).toBeNull();
  });
});

describe('nextSelectedIndex', () => {
  it('moves to the nearest selected slice in each direction', () => {
    expect(nextSelectedIndex(0, [40, 10, 30], 1)).toBe(10);
    expect(nextSelectedIndex(10, [40, 10, 30], 1)).toBe(30);
    expect(nextSelectedIndex(35, [40, 10, 30], -1)).toBe(30);
  });

  it('returns null past the last selected slice', () => {
    expect(nextSelectedIndex(40, [40, 10, 30], 1)).toBeNull();
    expect(nextSelectedIndex(10, [40, 10, 30], -1)).toBeNull();
  });
});

describe('transformFromCorners', () => {
  it('scales and translates an upright image', () => {
    const t = transformFromCorners({ x: 10, y: 20 }, { x: 266, y: 20 }, { x: 10, y: 276 }, 512, 512);
    expect(t).toEqual([0.5, 0, 0, 0.5, 10, 20]);
  });

  it('keeps a horizontal flip', () => {
    const t = transformFromCorners({ x: 100, y: 0 }, { x: 0, y: 0 }, { x: 100, y: 100 }, 100, 100);
    expect(t).toEqual([-1, 0, 0, 1, 100, 0]);
  });
});
