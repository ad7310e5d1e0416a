// File-system errors as StrataErrors a user can act on; shared by loadFile and the folder walk.

import { StrataError } from "../../core/errors.js";

export function fsError(e: unknown): StrataError {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return new StrataError("NOT_FOUND", "no such file or folder", "check the path", { cause: e });
    case "EACCES":
    case "EPERM":
      return new StrataError("UNREADABLE", "permission denied", "make it readable (chmod) or leave it out", { cause: e });
    case "ELOOP":
      return new StrataError("SYMLINK_LOOP", "symbolic link loop", "fix or remove the looping link", { cause: e });
    default:
      return new StrataError("UNREADABLE", `could not read it: ${(e as Error).message ?? String(e)}`, "check that the path is readable and the disk is healthy", { cause: e });
  }
}
