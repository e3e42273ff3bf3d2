/**
 * Returns true when any pixel of an RGBA buffer has a red, green or blue value
 * above `threshold` (0-255). Alpha is ignored, because a cleared canvas can be
 * opaque black.
 */
export function hasNonBlackPixel(rgba: ArrayLike<number>, threshold = 8): boolean {
  for (let offset = 0; offset + 2 < rgba.length; offset += 4) {
    const red = rgba[offset] ?? 0;
    const green = rgba[offset + 1] ?? 0;
    const blue = rgba[offset + 2] ?? 0;
    if (red > threshold || green > threshold || blue > threshold) {
      return true;
    }
  }
  return false;
}
