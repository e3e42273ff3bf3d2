/**
 * Entry point of the reader's CT viewer, loaded by the case page as
 * `<script type="module" src="/static/viewer/viewer.js">`.
 *
 * The page provides #viewer, #viewer-toolbar, #slice-counter, #window-readout,
 * the JSON #viewer-config and the form field #active-seconds. Besides what the
 * reader sees, the viewer keeps these attributes on #viewer for browser tests:
 * data-ready="true" once the first slice shows non-black pixels,
 * data-slice-index (0-based), data-voi ("lower,upper" in HU),
 * data-rendering ("gpu" or "cpu") and data-error (the message shown after a
 * failure). window.readerViewer exposes setSlice, getSliceIndex and getVoi.
 */

import { parseViewerConfigText, type ViewerConfig } from './config';
import { actionForKey, formatSliceCounter, isViewerKeyTarget, type ViewerAction } from './keymap';
import { describeLoadError, formatLoadFailure, isImageRequestRejection } from './loadError';
import { hasNonBlackPixel } from './pixels';
import { VisibleTimeTracker } from './readingTime';
import { initCornerstone, SliceLoadError, StackViewer, usesCpuRendering } from './stackViewer';
import { buildToolbar, markActivePreset } from './toolbar';
import {
  findPresetForVoi,
  formatVoiAttribute,
  formatWindowReadout,
  type PresetName,
  type VoiRange,
} from './windowLevel';

export interface ReaderViewerApi {
  /** Shows slice `index` (0-based, clamped) and resolves when it is displayed. */
  setSlice(index: number): Promise<void>;
  getSliceIndex(): number;
  getVoi(): VoiRange;
}

declare global {
  interface Window {
    readerViewer?: ReaderViewerApi;
  }
}

const REMEDY = 'Reload the page; if it persists, tell the study coordinator.';

function startFailureMessage(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  const sentence = /[.!?]$/.test(reason) ? reason : `${reason}.`;
  return `The viewer could not start: ${sentence} ${REMEDY}`;
}

/** Side of the scratch canvas that the first rendered frame is scaled onto for the black check. */
const PROBE_SIZE = 64;

function findElement<T extends HTMLElement>(id: string, type: new () => T): T | null {
  const element = document.getElementById(id);
  return element instanceof type ? element : null;
}

/** Shows `text` over the viewer and stores it in data-error. A newer message replaces the older one. */
function showViewerMessage(viewerElement: HTMLElement, text: string): void {
  if (getComputedStyle(viewerElement).position === 'static') {
    viewerElement.style.position = 'relative';
  }

  let box = viewerElement.querySelector<HTMLDivElement>(':scope > .viewer-message');
  if (box === null) {
    box = document.createElement('div');
    box.className = 'viewer-message';
    box.setAttribute('role', 'alert');
    Object.assign(box.style, {
      position: 'absolute',
      left: '1rem',
      right: '1rem',
      top: '1rem',
      zIndex: '10',
      padding: '0.75rem 1rem',
      background: '#7f1d1d',
      color: '#ffffff',
      font: '15px/1.4 system-ui, sans-serif',
      borderRadius: '4px',
    });
    viewerElement.append(box);
  }
  box.textContent = text;
  viewerElement.dataset['error'] = text;
}

/** Returns true when the viewport's canvas shows anything brighter than black. */
function canvasHasContent(viewerElement: HTMLElement): boolean {
  const canvas = viewerElement.querySelector<HTMLCanvasElement>('canvas.cornerstone-canvas, canvas');
  if (canvas === null || canvas.width === 0 || canvas.height === 0) {
    return false;
  }

  const probe = document.createElement('canvas');
  probe.width = PROBE_SIZE;
  probe.height = PROBE_SIZE;
  const context = probe.getContext('2d', { willReadFrequently: true });
  if (context === null) {
    return false;
  }
  context.drawImage(canvas, 0, 0, PROBE_SIZE, PROBE_SIZE);
  return hasNonBlackPixel(context.getImageData(0, 0, PROBE_SIZE, PROBE_SIZE).data);
}

/** Keeps `input` at the whole seconds the tab has been visible since navigation start. */
function trackReadingTime(input: HTMLInputElement): void {
  // performance.now() counts from navigation start, so the time before this
  // module ran counts too when the page loaded visible.
  const tracker = new VisibleTimeTracker(
    () => performance.now(),
    document.visibilityState === 'visible',
    0,
  );
  const update = (): void => {
    input.value = String(tracker.visibleSeconds());
  };

  document.addEventListener('visibilitychange', () => {
    tracker.setVisible(document.visibilityState === 'visible');
    update();
  });
  // The form data is collected after submit listeners run, so the posted
  // value is current to the second.
  input.form?.addEventListener('submit', update, { capture: true });
  window.addEventListener('pagehide', update);
  window.setInterval(update, 1000);
  update();
}

function bindKeyboard(perform: (action: ViewerAction) => void): void {
  document.addEventListener('keydown', (event: KeyboardEvent) => {
    // defaultPrevented is not checked, because Cornerstone's own keydown
    // listener on the viewport element cancels every key, ours included.
    if (event.isComposing) {
      return;
    }
    const target = event.target instanceof HTMLElement ? event.target : null;
    if (!isViewerKeyTarget(target, event.key)) {
      return;
    }

    const action = actionForKey(event);
    if (action === null) {
      return;
    }
    // Arrow, page and space keys would otherwise also scroll the page.
    event.preventDefault();
    perform(action);
  });
}

async function start(): Promise<void> {
  const viewerElement = findElement('viewer', HTMLDivElement);
  if (viewerElement === null) {
    console.error('Reader viewer: the page has no <div id="viewer">, so there is nowhere to show the images.');
    return;
  }

  const configElement = document.getElementById('viewer-config');
  let config: ViewerConfig;
  try {
    if (configElement === null) {
      throw new Error('the page has no <script id="viewer-config" type="application/json">.');
    }
    config = parseViewerConfigText(configElement.textContent ?? '');
  } catch (error: unknown) {
    console.error('Reader viewer: invalid configuration.', error);
    showViewerMessage(viewerElement, startFailureMessage(error));
    return;
  }

  const activeSeconds = findElement('active-seconds', HTMLInputElement);
  if (activeSeconds === null) {
    console.warn('Reader viewer: no <input id="active-seconds"> on the page, so reading time is not recorded.');
  } else {
    trackReadingTime(activeSeconds);
  }

  const sliceCounter = document.getElementById('slice-counter');
  const windowReadout = document.getElementById('window-readout');
  const toolbarElement = document.getElementById('viewer-toolbar');

  let viewer: StackViewer | null = null;
  const perform = (action: ViewerAction): void => {
    viewer?.perform(action).catch((error: unknown) => {
      console.error('Reader viewer: a viewer action failed.', action, error);
    });
  };

  const presetButtons =
    toolbarElement === null
      ? new Map<PresetName, HTMLButtonElement>()
      : buildToolbar(toolbarElement, (action) => {
          perform(action);
          // Return focus so that space and the number keys reach the viewer
          // instead of pressing the button again.
          viewerElement.focus({ preventScroll: true });
        });
  bindKeyboard(perform);
  viewerElement.addEventListener('pointerdown', () => {
    viewerElement.focus({ preventScroll: true });
  });
  // The right button drags zoom, so the browser's context menu must not open.
  viewerElement.addEventListener('contextmenu', (event) => {
    event.preventDefault();
  });

  // Cornerstone3D 5.14 leaves the promise of a failed image request
  // unhandled in its prefetch and stack loading. onLoadFailure below has
  // already shown and logged that failure, so the duplicate "Uncaught (in
  // promise) XMLHttpRequest" is dropped. Other rejections still surface.
  window.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
    if (isImageRequestRejection(event.reason)) {
      event.preventDefault();
    }
  });

  initCornerstone();
  viewerElement.dataset['rendering'] = usesCpuRendering() ? 'cpu' : 'gpu';

  let ready = false;
  const checkReady = (): void => {
    if (!ready && canvasHasContent(viewerElement)) {
      ready = true;
      viewerElement.dataset['ready'] = 'true';
    }
  };

  try {
    viewer = await StackViewer.create(viewerElement, config, {
      onSliceChange(index, sliceCount) {
        viewerElement.dataset['sliceIndex'] = String(index);
        if (sliceCounter !== null) {
          sliceCounter.textContent = formatSliceCounter(index, sliceCount);
        }
      },
      onVoiChange(voi) {
        viewerElement.dataset['voi'] = formatVoiAttribute(voi);
        if (windowReadout !== null) {
          windowReadout.textContent = formatWindowReadout(voi);
        }
        markActivePreset(presetButtons, findPresetForVoi(voi)?.name);
      },
      onRendered: checkReady,
      onLoadFailure(sliceIndex, error) {
        const message = formatLoadFailure(sliceIndex, describeLoadError(error));
        console.error(`Reader viewer: ${message}`, error);
        showViewerMessage(viewerElement, message);
      },
    });
  } catch (error: unknown) {
    if (error instanceof SliceLoadError) {
      // onLoadFailure has already shown and logged it.
      return;
    }
    throw error;
  }

  const createdViewer = viewer;
  window.readerViewer = {
    setSlice: (index) => createdViewer.setSlice(index),
    getSliceIndex: () => createdViewer.getSliceIndex(),
    getVoi: () => createdViewer.getVoi(),
  };

  let resizeFrame = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => createdViewer.resize());
  }).observe(viewerElement);

  // The render after setStack may have fired before the canvas could be read, so check once more.
  requestAnimationFrame(checkReady);
}

start().catch((error: unknown) => {
  console.error('Reader viewer: the viewer failed to start.', error);
  const viewerElement = document.getElementById('viewer');
  if (viewerElement !== null) {
    showViewerMessage(viewerElement, startFailureMessage(error));
  }
});
