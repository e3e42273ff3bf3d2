/**
 * The JSON configuration that the Django page embeds in
 * `<script id="viewer-config" type="application/json">`.
 */

import { DEFAULT_PRESET_NAME, isPresetName, WINDOW_PRESETS, type PresetName } from './windowLevel';

export interface ViewerConfig {
  /** Image ids sorted by position along the slice normal, e.g. "wadouri:https://host/reader/dicom/<token>/0". */
  imageIds: string[];
  /** 0-based index of the slice shown first. */
  startIndex: number;
  windowPreset: PresetName;
}

/** Invalid or missing viewer configuration. The message names the field and the fix. */
export class ViewerConfigError extends Error {
  override name = 'ViewerConfigError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseImageIds(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new ViewerConfigError(
      `Invalid viewer config: "imageIds" must be an array of image id strings, got ${JSON.stringify(value) ?? 'undefined'}.`,
    );
  }
  if (value.length === 0) {
    throw new ViewerConfigError('Invalid viewer config: "imageIds" is empty, so the case has no images to show.');
  }

  const imageIds: string[] = [];
  value.forEach((item: unknown, index) => {
    if (typeof item !== 'string' || item.length === 0) {
      throw new ViewerConfigError(
        `Invalid viewer config: "imageIds"[${index}] must be a non-empty string, got ${JSON.stringify(item) ?? 'undefined'}.`,
      );
    }
    imageIds.push(item);
  });
  return imageIds;
}

function parseStartIndex(value: unknown, sliceCount: number): number {
  if (value === undefined) {
    return 0;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= sliceCount) {
    throw new ViewerConfigError(
      `Invalid viewer config: "startIndex" must be an integer from 0 to ${sliceCount - 1}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function parseWindowPreset(value: unknown): PresetName {
  if (value === undefined) {
    return DEFAULT_PRESET_NAME;
  }
  if (!isPresetName(value)) {
    const names = WINDOW_PRESETS.map((preset) => `"${preset.name}"`).join(', ');
    throw new ViewerConfigError(
      `Invalid viewer config: "windowPreset" must be one of ${names}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

/**
 * Validates the parsed configuration object. "startIndex" defaults to 0 and
 * "windowPreset" to "lung". Any other invalid value raises ViewerConfigError.
 */
export function parseViewerConfig(raw: unknown): ViewerConfig {
  if (!isRecord(raw)) {
    throw new ViewerConfigError(
      `Invalid viewer config: expected a JSON object with "imageIds", got ${JSON.stringify(raw) ?? 'undefined'}.`,
    );
  }

  const imageIds = parseImageIds(raw['imageIds']);
  return {
    imageIds,
    startIndex: parseStartIndex(raw['startIndex'], imageIds.length),
    windowPreset: parseWindowPreset(raw['windowPreset']),
  };
}

/** Parses the text of the config script element. Invalid JSON raises ViewerConfigError. */
export function parseViewerConfigText(text: string): ViewerConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ViewerConfigError(`Invalid viewer config: the #viewer-config script is not valid JSON (${reason}).`);
  }
  return parseViewerConfig(raw);
}
