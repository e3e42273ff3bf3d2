import { describe, expect, it } from 'vitest';

import { hasNonBlackPixel } from './pixels';

describe('hasNonBlackPixel', () => {
  it('rejects an opaque black buffer', () => {
    const rgba = new Uint8ClampedArray(4 * 16);
    for (let offset = 3; offset < rgba.length; offset += 4) {
      rgba[offset] = 255;
    }

    expect(hasNonBlackPixel(rgba)).toBe(false);
  });

  it('finds one grey pixel at the end', () => {
    const rgba = new Uint8ClampedArray(4 * 16);
    rgba.set([120, 120, 120, 255], 4 * 15);

    expect(hasNonBlackPixel(rgba)).toBe(true);
  });

  it('ignores values at or below the threshold', () => {
    const rgba = new Uint8ClampedArray([8, 8, 8, 255, 3, 0, 0, 255]);

    expect(hasNonBlackPixel(rgba)).toBe(false);
    expect(hasNonBlackPixel(rgba, 2)).toBe(true);
  });

  it('returns false for an empty buffer', () => {
    expect(hasNonBlackPixel(new Uint8ClampedArray(0))).toBe(false);
  });
});
