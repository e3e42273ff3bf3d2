/**
 * Turns the rejection values of Cornerstone's DICOM image loader into a short
 * reason for the reader.
 *
 * The WADO-URI loader rejects with `{ error }`, where `error` is the
 * XMLHttpRequest for an HTTP or network failure, and an Error or a string for
 * a file that dicom-parser cannot read. Other paths reject with the bare value.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function describeCause(cause: unknown): string | undefined {
  if (typeof cause === 'string' && cause.length > 0) {
    return cause;
  }
  if (!isRecord(cause)) {
    return undefined;
  }

  // XMLHttpRequest and the loader's LoaderXhrRequestError both carry the status.
  const status = cause['status'];
  if (typeof status === 'number') {
    return status === 0 ? 'network error, no response from the server' : `HTTP ${status}`;
  }

  const message = cause['message'];
  if (typeof message === 'string' && message.length > 0) {
    return message;
  }
  return undefined;
}

/** Returns a short reason for a failed image load, such as "HTTP 403". */
export function describeLoadError(error: unknown): string {
  if (isRecord(error) && 'error' in error) {
    const inner = describeCause(error['error']);
    if (inner !== undefined) {
      return inner;
    }
  }
  return describeCause(error) ?? 'unknown error';
}

/**
 * Formats the message shown in the viewer when a slice fails to load.
 *
 * @param sliceIndex 0-based index of the slice, or -1 when the image id is not in the stack.
 * @param reason A reason from describeLoadError.
 */
export function formatLoadFailure(sliceIndex: number, reason: string): string {
  const subject = sliceIndex >= 0 ? `slice ${sliceIndex + 1}` : 'an image';
  return `Could not load ${subject}: ${reason}. Reload the page; if it persists, tell the study coordinator.`;
}

function looksLikeXhr(value: unknown): boolean {
  return isRecord(value) && typeof value['status'] === 'number' && typeof value['readyState'] === 'number';
}

/**
 * Returns true when a promise rejection value is a failed image request,
 * either an XMLHttpRequest or one wrapped as `{ error }` by the WADO-URI loader.
 */
export function isImageRequestRejection(reason: unknown): boolean {
  if (looksLikeXhr(reason)) {
    return true;
  }
  return isRecord(reason) && looksLikeXhr(reason['error']);
}
