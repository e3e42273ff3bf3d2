import { describe, expect, it } from 'vitest';

import { describeLoadError, formatLoadFailure, isImageRequestRejection } from './loadError';

describe('describeLoadError', () => {
  it('reads the status of a wrapped XMLHttpRequest', () => {
    expect(describeLoadError({ error: { status: 403, readyState: 4 } })).toBe('HTTP 403');
  });

  it('reads the status of a bare request error', () => {
    expect(describeLoadError({ status: 404, message: 'request failed' })).toBe('HTTP 404');
  });

  it('calls status 0 a network error', () => {
    expect(describeLoadError({ error: { status: 0 } })).toBe('network error, no response from the server');
  });

  it('passes on a parser message', () => {
    const parserMessage = 'dicomParser.readPart10Header: DICM prefix not found at location 132';

    expect(describeLoadError({ error: parserMessage })).toBe(parserMessage);
    expect(describeLoadError({ error: new Error('bad pixel data') })).toBe('bad pixel data');
  });

  it('passes on a bare Error', () => {
    expect(describeLoadError(new Error('decode failed'))).toBe('decode failed');
  });

  it('falls back for unknown values', () => {
    expect(describeLoadError(undefined)).toBe('unknown error');
    expect(describeLoadError({ error: {} })).toBe('unknown error');
  });
});

describe('formatLoadFailure', () => {
  it('names the slice from one and tells the reader what to do', () => {
    expect(formatLoadFailure(11, 'HTTP 403')).toBe(
      'Could not load slice 12: HTTP 403. Reload the page; if it persists, tell the study coordinator.',
    );
  });

  it('handles an image outside the stack', () => {
    expect(formatLoadFailure(-1, 'HTTP 500')).toMatch(/^Could not load an image: HTTP 500\./);
  });
});

describe('isImageRequestRejection', () => {
  it('recognises a bare or wrapped request', () => {
    expect(isImageRequestRejection({ status: 403, readyState: 4 })).toBe(true);
    expect(isImageRequestRejection({ error: { status: 0, readyState: 4 } })).toBe(true);
  });

  it('leaves other rejections alone', () => {
    expect(isImageRequestRejection(new Error('boom'))).toBe(false);
    expect(isImageRequestRejection({ error: 'DICM prefix not found' })).toBe(false);
    expect(isImageRequestRejection({ status: 403 })).toBe(false);
    expect(isImageRequestRejection(null)).toBe(false);
  });
});
