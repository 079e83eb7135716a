import { prepareBaseImage } from "../sim/base-image";

/** Builds (or finds in the cache) the routers' busybox once, before workers race to do it. */
export default function globalSetup(): void {
  prepareBaseImage();
}
