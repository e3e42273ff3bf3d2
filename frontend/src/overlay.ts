/**
 * Pure helpers of the heat-map overlay: its configuration, slice lookup and the
 * transform that lays an image-sized heat map over the viewport's canvas.
 */

export interface HeatmapSlice {
  /** 1 for the most abnormal selected slice. */
  rank: number;
  /** Index of the slice along the slice normal, 0 at the lowest position. */
  instanceIndex: number;
  sopInstanceUid: string;
  /** URL of the RGBA PNG heat map, the size of the slice. */
  url: string;
  /** CT model probability of the slice, or null. */
  probability: number | null;
}

export interface HeatmapConfig {
  slices: HeatmapSlice[];
  colormap: string;
  colorbar: string[];
  /** Initial opacity, 0 to 1. */
  opacity: number;
}

/** Invalid heat-map configuration. The message names the field and the fix. */
export class HeatmapConfigError extends Error {
  override name = 'HeatmapConfigError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseSlice(value: unknown, position: number): HeatmapSlice {
  if (!isRecord(value)) {
    throw new HeatmapConfigError(`Invalid heat-map config: "slices"[${position}] must be an object.`);
  }
  const { rank, instanceIndex, sopInstanceUid, url, probability } = value;
  if (typeof rank !== 'number' || typeof instanceIndex !== 'number') {
    throw new HeatmapConfigError(
      `Invalid heat-map config: "slices"[${position}] needs numeric "rank" and "instanceIndex".`,
    );
  }
  if (typeof sopInstanceUid !== 'string' || sopInstanceUid === '' || typeof url !== 'string' || url === '') {
    throw new HeatmapConfigError(
      `Invalid heat-map config: "slices"[${position}] needs non-empty "sopInstanceUid" and "url" strings.`,
    );
  }
  return {
    rank,
    instanceIndex,
    sopInstanceUid,
    url,
    probability: typeof probability === 'number' ? probability : null,
  };
}

/** Validates the parsed #heatmap-config object. */
export function parseHeatmapConfig(raw: unknown): HeatmapConfig {
  if (!isRecord(raw) || !Array.isArray(raw['slices'])) {
    throw new HeatmapConfigError('Invalid heat-map config: expected a JSON object with a "slices" array.');
  }
  const opacity = typeof raw['opacity'] === 'number' ? Math.min(1, Math.max(0, raw['opacity'])) : 0.4;
  const colorbar = Array.isArray(raw['colorbar'])
    ? raw['colorbar'].filter((item): item is string => typeof item === 'string')
    : [];
  return {
    slices: raw['slices'].map(parseSlice),
    colormap: typeof raw['colormap'] === 'string' ? raw['colormap'] : 'jet',
    colorbar,
    opacity,
  };
}

/** Returns the SOP Instance UID in a WADO-URI image id (its objectUID parameter), or null. */
export function objectUidFromImageId(imageId: string): string | null {
  const query = imageId.indexOf('?');
  if (query < 0) {
    return null;
  }
  return new URLSearchParams(imageId.slice(query + 1)).get('objectUID');
}

/**
 * Returns the stack index of the next (direction 1) or previous (direction -1)
 * selected slice from `current`, or null when there is none in that direction.
 */
export function nextSelectedIndex(current: number, selected: readonly number[], direction: 1 | -1): number | null {
  const sorted = [...selected].sort((a, b) => a - b);
  if (direction === 1) {
    return sorted.find((index) => index > current) ?? null;
  }
  const before = sorted.filter((index) => index < current);
  return before.length === 0 ? null : (before[before.length - 1] ?? null);
}

export interface Point {
  x: number;
  y: number;
}

/** The arguments of CanvasRenderingContext2D.setTransform(a, b, c, d, e, f). */
export type AffineTransform = [number, number, number, number, number, number];

/**
 * Returns the transform that maps a `width` x `height` image onto the canvas,
 * given where its top-left, top-right and bottom-left corners land.
 */
export function transformFromCorners(
  topLeft: Point,
  topRight: Point,
  bottomLeft: Point,
  width: number,
  height: number,
): AffineTransform {
  return [
    (topRight.x - topLeft.x) / width,
    (topRight.y - topLeft.y) / width,
    (bottomLeft.x - topLeft.x) / height,
    (bottomLeft.y - topLeft.y) / height,
    topLeft.x,
    topLeft.y,
  ];
}
