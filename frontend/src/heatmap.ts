/**
 * Heat-map overlay for the CT viewer, loaded next to viewer.js as
 * `<script type="module" src="/static/viewer/heatmap.js">`.
 *
 * The page provides the JSON #heatmap-config (see overlay.ts), the controls
 * #heatmap-toggle (checkbox), #heatmap-opacity (range 0-100) with
 * #heatmap-opacity-value, the list #selected-slices with one button per
 * selected slice (data-sop-instance-uid), and optionally #selected-marker.
 *
 * The heat map of the slice on screen is drawn on its own canvas over the
 * viewport, with the transform that maps the slice's corners to the canvas, so
 * it follows scrolling, zoom and pan. Keys: n / p next and previous selected
 * slice, h heat map on or off. For browser tests #viewer carries
 * data-heatmap-visible ("true" or "false") and data-heatmap-drawn (the SOP
 * Instance UID of the heat map on screen, or "").
 */

import {
  Enums as CoreEnums,
  getEnabledElement,
  utilities as coreUtilities,
  type Types,
} from '@cornerstonejs/core';

import { isViewerKeyTarget } from './keymap';
import {
  nextSelectedIndex,
  objectUidFromImageId,
  parseHeatmapConfig,
  transformFromCorners,
  type HeatmapConfig,
  type HeatmapSlice,
  type Point,
} from './overlay';

/** How long to wait for viewer.js to show the first slice before giving up. */
const VIEWER_WAIT_MS = 120_000;

function waitForViewer(element: HTMLDivElement): Promise<Types.IStackViewport> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const viewport = getEnabledElement(element)?.viewport as Types.IStackViewport | undefined;
      if (element.dataset['ready'] === 'true' && viewport !== undefined && window.readerViewer !== undefined) {
        resolve(viewport);
        return;
      }
      if (element.dataset['error'] !== undefined) {
        reject(new Error('the viewer failed to start, so the heat map has nothing to lie on.'));
        return;
      }
      if (performance.now() - started > VIEWER_WAIT_MS) {
        reject(new Error(`the viewer did not show a slice within ${VIEWER_WAIT_MS / 1000} s.`));
        return;
      }
      window.setTimeout(check, 100);
    };
    check();
  });
}

class HeatmapOverlay {
  private readonly canvas: HTMLCanvasElement;
  private readonly images = new Map<string, HTMLImageElement>();
  /** Stack index of each selected slice, by SOP Instance UID. */
  private readonly stackIndex = new Map<string, number>();
  private visible = true;
  private opacity: number;

  constructor(
    private readonly element: HTMLElement,
    private readonly viewport: Types.IStackViewport,
    private readonly config: HeatmapConfig,
  ) {
    this.opacity = config.opacity;
    this.canvas = document.createElement('canvas');
    this.canvas.id = 'heatmap-overlay';
    Object.assign(this.canvas.style, {
      position: 'absolute',
      inset: '0',
      width: '100%',
      height: '100%',
      pointerEvents: 'none',
      zIndex: '5',
    });
    element.append(this.canvas);

    const wanted = new Set(config.slices.map((slice) => slice.sopInstanceUid));
    viewport.getImageIds().forEach((imageId, index) => {
      const uid = objectUidFromImageId(imageId);
      if (uid !== null && wanted.has(uid)) {
        this.stackIndex.set(uid, index);
      }
    });
    for (const slice of config.slices) {
      this.preload(slice);
    }
    element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, () => {
      this.draw();
    });
    this.element.dataset['heatmapVisible'] = 'true';
  }

  /** Stack indices of the selected slices that the viewer shows. */
  get selectedStackIndices(): number[] {
    return [...this.stackIndex.values()];
  }

  stackIndexOf(uid: string): number | undefined {
    return this.stackIndex.get(uid);
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.element.dataset['heatmapVisible'] = String(visible);
    this.draw();
  }

  isVisible(): boolean {
    return this.visible;
  }

  getOpacity(): number {
    return this.opacity;
  }

  setOpacity(opacity: number): void {
    this.opacity = Math.min(1, Math.max(0, opacity));
    this.draw();
  }

  currentSlice(): HeatmapSlice | undefined {
    const uid = objectUidFromImageId(this.viewport.getCurrentImageId() ?? '');
    return this.config.slices.find((slice) => slice.sopInstanceUid === uid);
  }

  private preload(slice: HeatmapSlice): void {
    const image = new Image();
    image.decoding = 'async';
    image.addEventListener('load', () => {
      if (this.currentSlice()?.sopInstanceUid === slice.sopInstanceUid) {
        this.draw();
      }
    });
    image.addEventListener('error', () => {
      console.error(`Heat map: could not load ${slice.url} for slice ${slice.instanceIndex}.`);
    });
    image.src = slice.url;
    this.images.set(slice.sopInstanceUid, image);
  }

  /** Redraws the overlay for the slice on screen; called after every render of the viewport. */
  draw(): void {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(this.element.clientWidth * ratio);
    const height = Math.round(this.element.clientHeight * ratio);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const context = this.canvas.getContext('2d');
    if (context === null) {
      return;
    }
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, width, height);

    const slice = this.currentSlice();
    const image = slice === undefined ? undefined : this.images.get(slice.sopInstanceUid);
    const imageId = this.viewport.getCurrentImageId();
    if (!this.visible || slice === undefined || image === undefined || !image.complete || image.naturalWidth === 0) {
      this.element.dataset['heatmapDrawn'] = '';
      return;
    }

    const corner = (column: number, row: number): Point | null => {
      // Image coordinates count pixel centres, so the outer edge lies half a pixel out.
      const world = coreUtilities.imageToWorldCoords(imageId, [column - 0.5, row - 0.5]);
      if (world === undefined) {
        return null;
      }
      const [x, y] = this.viewport.worldToCanvas(world);
      return { x: x * ratio, y: y * ratio };
    };
    const columns = image.naturalWidth;
    const rows = image.naturalHeight;
    const topLeft = corner(0, 0);
    const topRight = corner(columns, 0);
    const bottomLeft = corner(0, rows);
    if (topLeft === null || topRight === null || bottomLeft === null) {
      this.element.dataset['heatmapDrawn'] = '';
      return;
    }

    context.globalAlpha = this.opacity;
    context.imageSmoothingEnabled = true;
    context.setTransform(...transformFromCorners(topLeft, topRight, bottomLeft, columns, rows));
    context.drawImage(image, 0, 0);
    this.element.dataset['heatmapDrawn'] = slice.sopInstanceUid;
  }
}

function bindControls(overlay: HeatmapOverlay, viewerElement: HTMLElement): void {
  const toggle = document.getElementById('heatmap-toggle');
  const opacity = document.getElementById('heatmap-opacity');
  const opacityValue = document.getElementById('heatmap-opacity-value');
  const marker = document.getElementById('selected-marker');
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('#selected-slices button[data-sop-instance-uid]')];

  const setVisible = (visible: boolean): void => {
    overlay.setVisible(visible);
    if (toggle instanceof HTMLInputElement) {
      toggle.checked = visible;
    }
  };
  toggle?.addEventListener('change', () => {
    setVisible(toggle instanceof HTMLInputElement ? toggle.checked : !overlay.isVisible());
  });
  if (opacity instanceof HTMLInputElement) {
    opacity.value = String(Math.round(overlay.getOpacity() * 100));
    opacity.addEventListener('input', () => {
      overlay.setOpacity(Number(opacity.value) / 100);
      if (opacityValue !== null) {
        opacityValue.textContent = `${opacity.value}%`;
      }
    });
  }

  const goTo = (index: number | undefined | null): void => {
    if (index === undefined || index === null) {
      return;
    }
    window.readerViewer?.setSlice(index).catch((error: unknown) => {
      console.error('Heat map: could not move to the selected slice.', error);
    });
  };
  for (const button of buttons) {
    button.addEventListener('click', () => {
      goTo(overlay.stackIndexOf(button.dataset['sopInstanceUid'] ?? ''));
      viewerElement.focus({ preventScroll: true });
    });
  }

  const markCurrent = (): void => {
    const current = overlay.currentSlice();
    for (const button of buttons) {
      button.setAttribute('aria-current', String(button.dataset['sopInstanceUid'] === current?.sopInstanceUid));
    }
    if (marker !== null) {
      marker.hidden = current === undefined;
      marker.textContent = current === undefined ? '' : `Selected slice ${current.rank} of ${buttons.length}`;
    }
  };
  viewerElement.addEventListener(CoreEnums.Events.STACK_NEW_IMAGE, markCurrent);
  markCurrent();

  document.addEventListener('keydown', (event: KeyboardEvent) => {
    if (event.isComposing || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const target = event.target instanceof HTMLElement ? event.target : null;
    if (!isViewerKeyTarget(target, event.key)) {
      return;
    }
    const current = window.readerViewer?.getSliceIndex() ?? 0;
    switch (event.key) {
      case 'n':
      case 'N':
        event.preventDefault();
        goTo(nextSelectedIndex(current, overlay.selectedStackIndices, 1));
        return;
      case 'p':
      case 'P':
        event.preventDefault();
        goTo(nextSelectedIndex(current, overlay.selectedStackIndices, -1));
        return;
      case 'h':
      case 'H':
        event.preventDefault();
        setVisible(!overlay.isVisible());
        return;
      default:
        return;
    }
  });
}

async function start(): Promise<void> {
  const viewerElement = document.getElementById('viewer');
  const configElement = document.getElementById('heatmap-config');
  if (!(viewerElement instanceof HTMLDivElement) || configElement === null) {
    console.error('Heat map: the page needs <div id="viewer"> and #heatmap-config.');
    return;
  }
  const config = parseHeatmapConfig(JSON.parse(configElement.textContent ?? 'null'));
  const viewport = await waitForViewer(viewerElement);
  const overlay = new HeatmapOverlay(viewerElement, viewport, config);
  bindControls(overlay, viewerElement);
  overlay.draw();
  viewerElement.dataset['heatmapReady'] = 'true';
}

start().catch((error: unknown) => {
  console.error('Heat map: the overlay failed to start.', error);
});
