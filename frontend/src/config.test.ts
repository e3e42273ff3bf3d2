import { describe, expect, it } from 'vitest';

import { parseViewerConfig, parseViewerConfigText, ViewerConfigError } from './config';

const IDS = ['wadouri:http://127.0.0.1:8000/reader/dicom/abc/0', 'wadouri:http://127.0.0.1:8000/reader/dicom/abc/1'];

describe('parseViewerConfig', () => {
  it('accepts the full contract', () => {
    const config = parseViewerConfig({ imageIds: IDS, startIndex: 1, windowPreset: 'bone' });

    expect(config.imageIds).toEqual(IDS);
    expect(config.startIndex).toBe(1);
    expect(config.windowPreset).toBe('bone');
  });

  it('defaults start index and preset', () => {
    const config = parseViewerConfig({ imageIds: IDS });

    expect(config.startIndex).toBe(0);
    expect(config.windowPreset).toBe('lung');
  });

  it('rejects a missing imageIds', () => {
    expect(() => parseViewerConfig({ startIndex: 0 })).toThrow(/"imageIds" must be an array/);
  });

  it('rejects an empty imageIds', () => {
    expect(() => parseViewerConfig({ imageIds: [] })).toThrow(/"imageIds" is empty/);
  });

  it('rejects a non-string image id and names its position', () => {
    expect(() => parseViewerConfig({ imageIds: [IDS[0], 7] })).toThrow(/"imageIds"\[1\].*got 7/);
  });

  it.each([-1, 2, 0.5, '0'])('rejects start index %j', (startIndex) => {
    expect(() => parseViewerConfig({ imageIds: IDS, startIndex })).toThrow(/"startIndex" must be an integer from 0 to 1/);
  });

  it('rejects an unknown preset and lists the known ones', () => {
    expect(() => parseViewerConfig({ imageIds: IDS, windowPreset: 'brain' })).toThrow(
      /"lung", "mediastinum", "bone", got "brain"/,
    );
  });

  it('rejects a non-object', () => {
    expect(() => parseViewerConfig(IDS)).toThrow(ViewerConfigError);
  });
});

describe('parseViewerConfigText', () => {
  it('parses JSON text', () => {
    expect(parseViewerConfigText(JSON.stringify({ imageIds: IDS })).imageIds).toHaveLength(2);
  });

  it('reports invalid JSON', () => {
    expect(() => parseViewerConfigText('{"imageIds": [')).toThrow(/not valid JSON/);
  });
});
