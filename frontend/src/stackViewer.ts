/**
 * One Cornerstone3D stack viewport with the usual radiology mouse mapping:
 * left drag window/level, middle drag pan, right drag zoom, wheel scroll.
 */

import {
  Enums as CoreEnums,
  eventTarget,
  getShouldUseCPURendering,
  init as initCore,
  RenderingEngine,
  type Types,
} from '@cornerstonejs/core';
import { init as initDicomImageLoader } from '@cornerstonejs/dicom-image-loader';
import {
  addTool,
  Enums as ToolEnums,
  init as initTools,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  utilities as toolUtilities,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';

import type { ViewerConfig } from './config';
import { targetSliceIndex, type ViewerAction } from './keymap';
import { getPreset, voiFromWindow, type PresetName, type VoiRange } from './windowLevel';

const RENDERING_ENGINE_ID = 'reader-rendering-engine';
const VIEWPORT_ID = 'reader-ct-stack';
const TOOL_GROUP_ID = 'reader-tools';

export interface StackViewerCallbacks {
  /** Called after the viewport shows a new slice. */
  onSliceChange(index: number, sliceCount: number): void;
  /** Called whenever the VOI range or inversion changes. */
  onVoiChange(voi: VoiRange): void;
  /** Called after every render of the viewport. */
  onRendered(): void;
  /** Called once per image of this stack that fails to load, with the loader's rejection value. */
  onLoadFailure(sliceIndex: number, error: unknown): void;
}

/** Failure to load the start slice, raised after onLoadFailure has reported it. */
export class SliceLoadError extends Error {
  override name = 'SliceLoadError';
  readonly sliceIndex: number;

  constructor(sliceIndex: number, cause: unknown) {
    super(`Could not load slice ${sliceIndex + 1}.`, { cause });
    this.sliceIndex = sliceIndex;
  }
}

let cornerstoneInitialized = false;

/**
 * Initialises Cornerstone3D core, the DICOM image loader and the tools, and
 * registers the tool classes. Later calls do nothing.
 */
export function initCornerstone(): void {
  if (cornerstoneInitialized) {
    return;
  }

  // In 5.x all three are synchronous. The loader registers the wadouri:
  // scheme and decodes in module workers.
  initCore();
  initDicomImageLoader();
  initTools();

  for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool]) {
    addTool(tool);
  }
  cornerstoneInitialized = true;
}

/** Returns true when Cornerstone fell back to CPU rendering because WebGL is missing. */
export function usesCpuRendering(): boolean {
  return getShouldUseCPURendering();
}

function addEventListenerTyped<Detail>(
  target: EventTarget,
  type: string,
  listener: (detail: Detail) => void,
): void {
  target.addEventListener(type, (event: Event) => {
    listener((event as CustomEvent<Detail>).detail);
  });
}

function failureFromEventDetail(detail: unknown): { imageId: string; error: unknown } | null {
  if (typeof detail !== 'object' || detail === null || !('imageId' in detail)) {
    return null;
  }
  const { imageId } = detail;
  if (typeof imageId !== 'string') {
    return null;
  }
  return { imageId, error: 'error' in detail ? detail.error : undefined };
}

export class StackViewer {
  readonly element: HTMLDivElement;
  readonly imageIds: readonly string[];
  private readonly viewport: Types.IStackViewport;
  private readonly renderingEngine: RenderingEngine;
  private readonly callbacks: StackViewerCallbacks;
  private readonly failedImageIds = new Set<string>();
  private initialVoi: VoiRange;
  private initialInvert = false;

  private constructor(
    element: HTMLDivElement,
    config: ViewerConfig,
    callbacks: StackViewerCallbacks,
  ) {
    this.element = element;
    this.imageIds = config.imageIds;
    this.callbacks = callbacks;
    this.initialVoi = voiFromWindow(getPreset(config.windowPreset));

    this.renderingEngine = new RenderingEngine(RENDERING_ENGINE_ID);
    this.renderingEngine.enableElement({
      viewportId: VIEWPORT_ID,
      element,
      type: CoreEnums.ViewportType.STACK,
    });
    this.viewport = this.renderingEngine.getViewport<Types.IStackViewport>(VIEWPORT_ID);
  }

  /**
   * Creates the viewport in `element`, shows the configured start slice in
   * the configured window and starts prefetching the rest of the stack.
   *
   * The returned promise rejects with SliceLoadError when the start slice
   * cannot be loaded. By then onLoadFailure has been called.
   */
  static async create(
    element: HTMLDivElement,
    config: ViewerConfig,
    callbacks: StackViewerCallbacks,
  ): Promise<StackViewer> {
    initCornerstone();
    const viewer = new StackViewer(element, config, callbacks);
    viewer.listen();
    viewer.setUpTools();

    const startImageId = config.imageIds[config.startIndex] ?? '';
    try {
      await viewer.viewport.setStack([...config.imageIds], config.startIndex);
    } catch (error: unknown) {
      viewer.reportFailure(startImageId, error);
      throw new SliceLoadError(config.startIndex, error);
    }
    // On a failed load, setStack in Cornerstone3D 5.14 resolves anyway, with
    // no image on the viewport. The load-failure events have fired by then.
    if (viewer.failedImageIds.has(startImageId) || viewer.viewport.getCornerstoneImage() == null) {
      const error = new Error('the image could not be displayed');
      viewer.reportFailure(startImageId, error);
      throw new SliceLoadError(config.startIndex, error);
    }

    // The window is set explicitly because several CT series carry two
    // WindowCenter or WindowWidth values, and the reader must start in the
    // study's window.
    viewer.viewport.setProperties({ voiRange: viewer.initialVoi });
    viewer.initialInvert = viewer.viewport.getProperties().invert ?? false;
    viewer.viewport.render();
    viewer.callbacks.onSliceChange(viewer.getSliceIndex(), viewer.sliceCount);
    viewer.callbacks.onVoiChange(viewer.getVoi());

    toolUtilities.stackPrefetch.enable(element);
    return viewer;
  }

  get sliceCount(): number {
    return this.imageIds.length;
  }

  getSliceIndex(): number {
    return this.viewport.getCurrentImageIdIndex();
  }

  getVoi(): VoiRange {
    // The typings declare undefined, but 5.14 returns null before an image is shown.
    const voi = this.viewport.getProperties().voiRange;
    if (voi == null) {
      return { ...this.initialVoi };
    }
    return { lower: voi.lower, upper: voi.upper };
  }

  /** Shows slice `index`, clamped to the stack, and resolves when it is displayed. */
  async setSlice(index: number): Promise<void> {
    const clamped = Math.min(this.sliceCount - 1, Math.max(0, Math.round(index)));
    try {
      await this.viewport.setImageIdIndex(clamped);
    } catch (error: unknown) {
      this.reportFailure(this.imageIds[clamped] ?? '', error);
    }
  }

  applyPreset(name: PresetName): void {
    this.viewport.setProperties({ voiRange: voiFromWindow(getPreset(name)) });
    this.viewport.render();
  }

  zoomBy(factor: number): void {
    this.viewport.setZoom(this.viewport.getZoom() * factor);
    this.viewport.render();
  }

  toggleInvert(): void {
    const inverted = this.viewport.getProperties().invert ?? false;
    this.viewport.setProperties({ invert: !inverted });
    this.viewport.render();
  }

  /** Restores zoom, pan, window and inversion to their state at page load. The slice stays. */
  reset(): void {
    this.viewport.resetCamera();
    // resetProperties() would return to the DICOM file's own window, so the
    // initial window is set again instead.
    this.viewport.setProperties({ voiRange: this.initialVoi, invert: this.initialInvert });
    this.viewport.render();
  }

  /** Carries out a keyboard or toolbar action. */
  async perform(action: ViewerAction): Promise<void> {
    switch (action.kind) {
      case 'scroll':
      case 'first':
      case 'last': {
        // Start from the slice being loaded, not the one on screen, so that
        // key repeat keeps moving while a slice is still on its way.
        const current = this.viewport.getTargetImageIdIndex();
        await this.setSlice(targetSliceIndex(action, current, this.sliceCount));
        return;
      }
      case 'preset':
        this.applyPreset(action.preset);
        return;
      case 'zoom':
        this.zoomBy(action.factor);
        return;
      case 'invert':
        this.toggleInvert();
        return;
      case 'reset':
        this.reset();
        return;
    }
  }

  /** Resizes the canvas to the element, keeping zoom and pan. */
  resize(): void {
    this.renderingEngine.resize(true, true);
  }

  private setUpTools(): void {
    const existing = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    if (existing !== undefined) {
      ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
    }
    const toolGroup = ToolGroupManager.createToolGroup(TOOL_GROUP_ID);
    if (toolGroup === undefined) {
      throw new Error(`Could not create the Cornerstone tool group "${TOOL_GROUP_ID}".`);
    }

    toolGroup.addTool(WindowLevelTool.toolName);
    toolGroup.addTool(PanTool.toolName);
    toolGroup.addTool(ZoomTool.toolName);
    toolGroup.addTool(StackScrollTool.toolName);
    toolGroup.addViewport(VIEWPORT_ID, RENDERING_ENGINE_ID);

    const { MouseBindings } = ToolEnums;
    toolGroup.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    toolGroup.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    toolGroup.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    toolGroup.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  }

  private listen(): void {
    const { Events } = CoreEnums;

    addEventListenerTyped<Types.EventTypes.StackNewImageEventDetail>(this.element, Events.STACK_NEW_IMAGE, (detail) => {
      this.callbacks.onSliceChange(detail.imageIdIndex, this.sliceCount);
    });
    addEventListenerTyped<Types.EventTypes.VoiModifiedEventDetail>(this.element, Events.VOI_MODIFIED, (detail) => {
      this.callbacks.onVoiChange({ lower: detail.range.lower, upper: detail.range.upper });
    });
    this.element.addEventListener(Events.IMAGE_RENDERED, () => {
      this.callbacks.onRendered();
    });

    // The image loader reports every failed load on the global event target,
    // prefetches included. The stack viewport reports its own loads with
    // IMAGE_LOAD_ERROR, whose detail is an object or, from loadImages, a list.
    addEventListenerTyped<Types.EventTypes.ImageLoadedFailedEventDetail>(
      eventTarget,
      Events.IMAGE_LOAD_FAILED,
      (detail) => {
        this.reportFailure(detail.imageId, detail.error);
      },
    );
    addEventListenerTyped<unknown>(eventTarget, Events.IMAGE_LOAD_ERROR, (detail) => {
      for (const item of Array.isArray(detail) ? detail : [detail]) {
        const failure = failureFromEventDetail(item);
        if (failure !== null) {
          this.reportFailure(failure.imageId, failure.error);
        }
      }
    });
  }

  private reportFailure(imageId: string, error: unknown): void {
    const sliceIndex = this.imageIds.indexOf(imageId);
    if (sliceIndex < 0 || this.failedImageIds.has(imageId)) {
      return;
    }
    this.failedImageIds.add(imageId);
    this.callbacks.onLoadFailure(sliceIndex, error);
  }
}
