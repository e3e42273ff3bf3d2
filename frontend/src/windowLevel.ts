/**
 * Window presets and conversions between a window (width and level, in HU)
 * and the VOI range that Cornerstone3D stores on a viewport.
 *
 * The conversion is the plain one, lower = level - width / 2, so the lung
 * window W 1500 / L -600 is exactly the range -1350..150 HU. Cornerstone's own
 * `windowLevel.toLowHighRange` applies the DICOM linear-function offsets of
 * 0.5 and 1 and would give -1349.5..149.5 instead.
 */

export interface VoiRange {
  lower: number;
  upper: number;
}

export interface WindowLevel {
  width: number;
  level: number;
}

export type PresetName = 'lung' | 'mediastinum' | 'bone';

export interface WindowPreset extends WindowLevel {
  name: PresetName;
  label: string;
  /** The key ("1", "2", ...) that selects the preset. */
  key: string;
}

/** Presets in toolbar and number-key order. */
export const WINDOW_PRESETS: readonly WindowPreset[] = [
  { name: 'lung', label: 'Lung', key: '1', width: 1500, level: -600 },
  { name: 'mediastinum', label: 'Mediastinum', key: '2', width: 350, level: 40 },
  { name: 'bone', label: 'Bone', key: '3', width: 2000, level: 500 },
];

export const DEFAULT_PRESET_NAME: PresetName = 'lung';

export function isPresetName(value: unknown): value is PresetName {
  return WINDOW_PRESETS.some((preset) => preset.name === value);
}

/** Returns the preset called `name`, and raises for a name outside WINDOW_PRESETS. */
export function getPreset(name: PresetName): WindowPreset {
  const preset = WINDOW_PRESETS.find((candidate) => candidate.name === name);
  if (preset === undefined) {
    throw new Error(
      `Unknown window preset "${name}". Expected one of ${WINDOW_PRESETS.map((preset) => preset.name).join(', ')}.`,
    );
  }
  return preset;
}

export function voiFromWindow({ width, level }: WindowLevel): VoiRange {
  return { lower: level - width / 2, upper: level + width / 2 };
}

export function windowFromVoi({ lower, upper }: VoiRange): WindowLevel {
  return { width: upper - lower, level: (lower + upper) / 2 };
}

/** Returns the preset whose VOI range equals `voi` within `toleranceHu`, if any. */
export function findPresetForVoi(voi: VoiRange, toleranceHu = 0.5): WindowPreset | undefined {
  return WINDOW_PRESETS.find((preset) => {
    const presetVoi = voiFromWindow(preset);
    return (
      Math.abs(presetVoi.lower - voi.lower) <= toleranceHu &&
      Math.abs(presetVoi.upper - voi.upper) <= toleranceHu
    );
  });
}

/** Rounds to an integer and turns -0 into 0, so that readouts never show "-0". */
function roundForDisplay(value: number): number {
  const rounded = Math.round(value);
  return rounded === 0 ? 0 : rounded;
}

/** Formats the window readout, e.g. "W 1500 / L -600", in whole HU. */
export function formatWindowReadout(voi: VoiRange): string {
  const { width, level } = windowFromVoi(voi);
  return `W ${roundForDisplay(width)} / L ${roundForDisplay(level)}`;
}

/** Formats the `data-voi` test attribute, "lower,upper", to two decimals at most. */
export function formatVoiAttribute(voi: VoiRange): string {
  const format = (value: number): string => {
    const rounded = Math.round(value * 100) / 100;
    return String(rounded === 0 ? 0 : rounded);
  };
  return `${format(voi.lower)},${format(voi.upper)}`;
}
