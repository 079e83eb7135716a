import * as fs from "fs";
import * as path from "path";

/** Whether an executable of this name is on PATH (what `command -v` would find). */
export function onPath(name: string): boolean {
  return (process.env.PATH ?? "")
    .split(":")
    .filter(Boolean)
    .some((dir) => {
      try {
        fs.accessSync(path.join(dir, name), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}
